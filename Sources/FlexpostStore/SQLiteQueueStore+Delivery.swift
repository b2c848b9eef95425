import FlexpostCore
import Foundation
import GRDB

extension SQLiteQueueStore {
    static let deliveryColumns = """
        id, order_id, kind, recipient_name, recipient_email, language, state, due_at, first_due_at, message_id,
        attempts, created_at, sent_at, last_code, last_reply, finished_at, resend_of_kind IS NOT NULL
        """

    /// A row of ``deliveryColumns``, read by position (GRDB matches column
    /// names case-insensitively, lowercasing on every lookup).
    static func delivery(_ row: Row) throws -> Delivery {
        let email: String = row[4]
        return Delivery(
            id: row[0], orderId: row[1],
            kind: try DeliveryKind(stored: row[2], column: "deliveries.kind"),
            recipient: try Contact.stored(name: row[3], email: email),
            language: try Language(stored: row[5], column: "deliveries.language"),
            state: try DeliveryState(stored: row[6], column: "deliveries.state"),
            dueAt: Date(timeIntervalSince1970: row[7]),
            firstDueAt: Date(timeIntervalSince1970: row[8]),
            messageID: row[9], attempts: row[10],
            createdAt: Date(timeIntervalSince1970: row[11]),
            sentAt: (row[12] as Double?).map(Date.init(timeIntervalSince1970:)),
            lastCode: row[13], lastReply: row[14],
            finishedAt: (row[15] as Double?).map(Date.init(timeIntervalSince1970:)), isResend: row[16])
    }

    /// The first `limit` due deliveries by due time: scheduled and retrying ones
    /// that are due, and claims whose lease ran out. Each state is read from
    /// its own range of `deliveries_waiting` in due order and stops at the limit;
    /// a single `OR` made SQLite collect and sort every due delivery on every
    /// claim, so draining N deliveries cost O(N²). A lapsed claim a hold covers
    /// (its worker vanished) waits for the release; waiting deliveries a hold
    /// covers are `held` already.
    /// Parameters: `?3` now, `?4` limit.
    static let claimCandidates = """
        SELECT id FROM (
            SELECT id, due_at FROM (SELECT id, due_at FROM deliveries WHERE state = \(scheduled) AND due_at <= ?3
                                    ORDER BY due_at, id LIMIT ?4)
            UNION ALL
            SELECT id, due_at FROM (SELECT id, due_at FROM deliveries WHERE state = \(retrying) AND due_at <= ?3
                                    ORDER BY due_at, id LIMIT ?4)
            UNION ALL
            SELECT id, due_at FROM (SELECT id, due_at FROM deliveries WHERE state = \(sending) AND lease_expires_at <= ?3
                                    AND NOT \(covered) ORDER BY due_at, id LIMIT ?4))
        ORDER BY due_at, id LIMIT ?4
        """
    static let scheduled = DeliveryState.scheduled.sqlLiteral, retrying = DeliveryState.retrying.sqlLiteral,
        sending = DeliveryState.sending.sqlLiteral, waiting = DeliveryState.waiting.sqlList

    public func claimDue(at now: Date, limit: Int, lease: Lease) async throws -> [Delivery] {
        try await immediate { db in
            let rows = try Row.fetchAll(
                db,
                sql: """
                    UPDATE deliveries
                    SET state = \(Self.sending), lease_owner = ?1, lease_expires_at = ?2, attempts = attempts + 1
                    WHERE id IN (\(Self.claimCandidates))
                    RETURNING \(Self.deliveryColumns)
                    """,
                arguments: [lease.owner, lease.expiresAt.timeIntervalSince1970, now.timeIntervalSince1970, limit])
            return try rows.map(Self.delivery).sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
        }
    }

    public func complete(_ attempts: [CompletedAttempt], owner: String) async throws -> [Bool] {
        let events = deliveryEvents
        return try await immediate { db in
            let insert = try db.cachedStatement(sql: """
                INSERT INTO attempts (delivery_id, started_at, finished_at, outcome, reply_code, reply)
                VALUES (?, ?, ?, ?, ?, ?)
                """)
            let update = try db.cachedStatement(sql: """
                UPDATE deliveries
                SET state = ?, due_at = COALESCE(?, due_at), sent_at = ?, last_code = ?, last_reply = ?,
                    lease_owner = NULL, lease_expires_at = NULL, finished_at = ?
                WHERE id = ? AND state = \(Self.sending) AND lease_owner = ?
                """)
            // The attempt is history even when the claim was taken over meanwhile: it happened.
            return try attempts.map { completed in
                let attempt = completed.attempt
                try insert.execute(arguments: [
                    completed.deliveryId, attempt.startedAt.timeIntervalSince1970,
                    attempt.finishedAt.timeIntervalSince1970, attempt.nextState.rawValue, attempt.replyCode,
                    attempt.reply])
                try update.execute(arguments: [
                    attempt.nextState.rawValue, attempt.retryAt?.timeIntervalSince1970,
                    attempt.nextState == .sent ? attempt.finishedAt.timeIntervalSince1970 : nil,
                    attempt.replyCode, attempt.reply,
                    attempt.nextState.isFinal ? attempt.finishedAt.timeIntervalSince1970 : nil,
                    completed.deliveryId, owner])
                let held = db.changesCount == 1
                if held, events, let event = DeliveryEvents.event(for: completed) { try Self.insertEvents(db, [event]) }
                return held
            }
        }
    }

    public func renewClaims(owner: String, until: Date) async throws -> Set<Int64> {
        try await immediate { db in
            Set(try Int64.fetchAll(
                db,
                sql: """
                    UPDATE deliveries SET lease_expires_at = ?
                    WHERE state = \(Self.sending) AND lease_owner = ? RETURNING id
                    """,
                arguments: [until.timeIntervalSince1970, owner]))
        }
    }

    public func releaseClaims(owner: String) async throws {
        try await immediate { db in
            let claims = try Row.fetchAll(
                db, sql: "SELECT id, attempts FROM deliveries WHERE state = \(Self.sending) AND lease_owner = ?",
                arguments: [owner])
            let update = try db.cachedStatement(sql: """
                UPDATE deliveries SET state = ?, attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ? AND state = \(Self.sending) AND lease_owner = ?
                """)
            for claim in claims {
                let id: Int64 = claim[0]
                try update.execute(arguments: [DeliveryState.released(attempts: claim[1]).rawValue, id, owner])
            }
        }
    }

    public func storedOrder(_ orderId: String) async throws -> StoredOrder? {
        try await pool.read { db in try Self.storedOrder(db, orderId) }
    }

    public func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder] {
        try await pool.read { db in
            var orders: [String: StoredOrder] = [:]
            for orderId in orderIds {
                orders[orderId] = try Self.storedOrder(db, orderId)
            }
            return orders
        }
    }

    static func storedOrder(_ db: Database, _ orderId: String) throws -> StoredOrder? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT o.document, o.cancelled_at, o.secrets_purged_at, COALESCE(c.portal_active, 0) AS active,
                    o.customer_number, o.personal_data_erased_at, c.activated_at
                FROM orders o LEFT JOIN customers c ON c.customer_number = o.customer_number
                WHERE o.order_id = ?
                """),
            arguments: [orderId])
        else { return nil }
        let erasedAt = (row["personal_data_erased_at"] as Double?).map(Date.init(timeIntervalSince1970:))
        let order = erasedAt == nil ? try StoredDocument.decode(row["document"] as Data) : nil
        let sealed = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT purpose, key_id, ciphertext FROM secrets WHERE order_id = ? ORDER BY purpose"),
            arguments: [orderId]
        ).map { SealedSecret(purpose: $0["purpose"], keyId: $0["key_id"], ciphertext: Array($0["ciphertext"] as Data)) }
        return StoredOrder(
            order: order, customerNumber: row["customer_number"], sealedSecrets: sealed, portalActive: row["active"],
            cancelled: (row["cancelled_at"] as Double?) != nil,
            secretsPurged: (row["secrets_purged_at"] as Double?) != nil, personalDataErasedAt: erasedAt,
            activatedAt: (row["activated_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    public func deliveries(orderId: String) async throws -> [Delivery] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT \(Self.deliveryColumns) FROM deliveries WHERE order_id = ? ORDER BY id",
                arguments: [orderId]
            ).map(Self.delivery)
        }
    }

    public func orderIds(customerNumber: String) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(db, sql: "SELECT order_id FROM orders WHERE customer_number = ? ORDER BY received_at, order_id",
                                arguments: [customerNumber])
        }
    }

    public func dueCount(at now: Date, limit: Int?) async throws -> Int {
        let count = try await pool.read { db in
            try Int.fetchOne(
                db,
                sql: """
                    SELECT COUNT(*) FROM deliveries
                    WHERE (state IN (\(Self.waiting)) AND due_at <= ?) OR (state = \(Self.sending) AND lease_expires_at <= ?)
                    """,
                arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970]) ?? 0
        }
        return limit.map { min($0, count) } ?? count
    }

    public func oldestWaitingDue(at now: Date) async throws -> Date? {
        try await pool.read { db in
            try Double.fetchOne(
                db, sql: "SELECT MIN(due_at) FROM deliveries WHERE state IN (\(Self.waiting)) AND due_at <= ?",
                arguments: [now.timeIntervalSince1970]
            ).map(Date.init(timeIntervalSince1970:))
        }
    }

    public func nextDueDate() async throws -> Date? {
        try await pool.read { db in
            try Double.fetchOne(
                db,
                sql: """
                    SELECT MIN(t) FROM (
                        SELECT MIN(due_at) AS t FROM deliveries WHERE state IN (\(Self.waiting))
                        UNION ALL
                        SELECT MIN(lease_expires_at) FROM deliveries WHERE state = \(Self.sending))
                    """
            ).map(Date.init(timeIntervalSince1970:))
        }
    }
}
