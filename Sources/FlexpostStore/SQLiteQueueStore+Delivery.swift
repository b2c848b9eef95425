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

    public func hourlyOutcomes(from: Date, to: Date) async throws -> [HourlyOutcome] {
        try await pool.read { db in
            var hours: [Int64: HourlyOutcome] = [:]
            for row in try Row.fetchAll(
                db,
                sql: """
                    SELECT CAST(finished_at / 3600 AS INTEGER) AS hour, state, COUNT(*) FROM deliveries
                    WHERE state IN (\([DeliveryState.sent, .dead, .bounced].sqlList)) AND finished_at >= ? AND finished_at < ?
                    GROUP BY hour, state
                    """,
                arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970])
            {
                let hour: Int64 = row[0]
                var outcome = hours[hour] ?? HourlyOutcome(hour: Date(timeIntervalSince1970: Double(hour) * 3_600))
                let count: Int = row[2]
                switch try DeliveryState(stored: row[1], column: "deliveries.state") {
                case .sent: outcome.sent = count
                case .dead: outcome.dead = count
                default: outcome.bounced = count
                }
                hours[hour] = outcome
            }
            return hours.values.sorted { $0.hour < $1.hour }
        }
    }

    public func searchOrders(term: String, limit: Int) async throws -> [OrderMatch] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT o.order_id, o.customer_number, o.received_at FROM search_terms s
                    JOIN orders o ON o.order_id = s.order_id
                    WHERE s.term = ? ORDER BY o.received_at DESC, o.order_id DESC LIMIT ?
                    """,
                arguments: [term, limit]
            ).map { OrderMatch(orderId: $0[0], customerNumber: $0[1], receivedAt: Date(timeIntervalSince1970: $0[2])) }
        }
    }

    public func bouncedDeliveries(endedFrom from: Date, to: Date, limit: Int) async throws -> [BouncedDelivery] {
        let columns = Self.deliveryColumns.split(separator: ",").map { "d." + $0.trimmingCharacters(in: .whitespacesAndNewlines) }
            .joined(separator: ", ")
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(columns), b.status, b.diagnostic FROM deliveries d
                    JOIN bounces b ON b.delivery_id = d.id AND b.class = \(BounceClass.failed.sqlLiteral)
                    WHERE d.state = \(DeliveryState.bounced.sqlLiteral) AND d.finished_at >= ? AND d.finished_at <= ?
                    ORDER BY d.finished_at DESC, d.id DESC LIMIT ?
                    """,
                arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970, limit]
            ).map { BouncedDelivery(delivery: try Self.delivery($0), status: $0[17], diagnostic: $0[18]) }
        }
    }

    public func bounceCounts() async throws -> [BounceCount] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: "SELECT d.kind, b.class, COUNT(*) FROM bounces b JOIN deliveries d ON d.id = b.delivery_id GROUP BY d.kind, b.class"
            ).map {
                BounceCount(kind: try DeliveryKind(stored: $0[0], column: "deliveries.kind"),
                            bounceClass: try BounceClass(stored: $0[1], column: "bounces.class"), count: $0[2])
            }
        }
    }

    public func delivery(messageId: String) async throws -> (deliveryId: Int64, orderId: String)? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT id, order_id FROM deliveries WHERE message_id = ? ORDER BY id LIMIT 1",
                             arguments: [messageId]).map { (deliveryId: $0[0], orderId: $0[1]) }
        }
    }

    public func orderId(ofDelivery deliveryId: Int64) async throws -> String? {
        try await pool.read { db in
            try String.fetchOne(db, sql: "SELECT order_id FROM deliveries WHERE id = ?", arguments: [deliveryId])
        }
    }

    public func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.deliveryColumns) FROM deliveries
                    WHERE ? IS NULL OR state = ? ORDER BY due_at, id LIMIT ?
                    """,
                arguments: [state?.rawValue, state?.rawValue, limit]
            ).map(Self.delivery)
        }
    }

    public func deadDeliveries(endedFrom from: Date, to: Date, limit: Int, newestFirst: Bool) async throws -> [Delivery] {
        let order = newestFirst ? "finished_at DESC, id DESC" : "finished_at, id"
        return try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT \(Self.deliveryColumns) FROM deliveries
                    WHERE state = \(DeliveryState.dead.sqlLiteral) AND finished_at >= ? AND finished_at <= ? ORDER BY \(order) LIMIT ?
                    """,
                arguments: [from.timeIntervalSince1970, to.timeIntervalSince1970, limit]
            ).map(Self.delivery)
        }
    }

    public func attempts(orderId: String) async throws -> [AttemptEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT a.delivery_id, a.started_at, a.finished_at, a.outcome, a.reply_code, a.reply
                    FROM attempts a JOIN deliveries d ON d.id = a.delivery_id
                    WHERE d.order_id = ? ORDER BY a.id
                    """,
                arguments: [orderId]
            ).map {
                AttemptEntry(
                    deliveryId: $0["delivery_id"], startedAt: Date(timeIntervalSince1970: $0["started_at"]),
                    finishedAt: Date(timeIntervalSince1970: $0["finished_at"]),
                    outcome: try DeliveryState(stored: $0["outcome"], column: "attempts.outcome"), replyCode: $0["reply_code"],
                    reply: $0["reply"])
            }
        }
    }

    public func history(orderId: String) async throws -> [HistoryEntry] {
        try await pool.read { db in
            try Row.fetchAll(
                db, sql: "SELECT at, actor, action, detail FROM history WHERE order_id = ? ORDER BY id",
                arguments: [orderId]
            ).map {
                HistoryEntry(at: Date(timeIntervalSince1970: $0["at"]), actor: $0["actor"],
                             action: try HistoryAction(stored: $0["action"], column: "history.action"), detail: $0["detail"])
            }
        }
    }

    public func countsByState() async throws -> [DeliveryState: Int] {
        try await pool.read { db in
            var counts: [DeliveryState: Int] = [:]
            for row in try Row.fetchAll(db, sql: "SELECT state, COUNT(*) AS n FROM deliveries GROUP BY state") {
                counts[try DeliveryState(stored: row["state"], column: "deliveries.state")] = row["n"]
            }
            return counts
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
