import FlexpostCore
import Foundation
import PostgresNIO

extension PostgresQueueStore {
    static let deliveryColumns = """
        id, order_id, kind, recipient_name, recipient_email, language, state, due_at, first_due_at, message_id,
        attempts, created_at, sent_at, last_code, last_reply, finished_at, resend_of_kind IS NOT NULL
        """

    typealias DeliveryRow = (Int64, String, String, String, String, String, String, Double, Double, String, Int64, Double,
                             Double?, Int64?, String?, Double?, Bool)

    static func delivery(_ r: DeliveryRow) throws -> Delivery {
        Delivery(
            id: r.0, orderId: r.1, kind: try DeliveryKind(stored: r.2, column: "deliveries.kind"),
            recipient: try Contact.stored(name: r.3, email: r.4),
            language: try Language(stored: r.5, column: "deliveries.language"),
            state: try DeliveryState(stored: r.6, column: "deliveries.state"),
            dueAt: Date(timeIntervalSince1970: r.7), firstDueAt: Date(timeIntervalSince1970: r.8), messageID: r.9,
            attempts: Int(r.10), createdAt: Date(timeIntervalSince1970: r.11),
            sentAt: r.12.map(Date.init(timeIntervalSince1970:)), lastCode: r.13.map(Int.init), lastReply: r.14,
            finishedAt: r.15.map(Date.init(timeIntervalSince1970:)), isResend: r.16)
    }

    static let scheduled = DeliveryState.scheduled.sqlLiteral, retrying = DeliveryState.retrying.sqlLiteral,
        sending = DeliveryState.sending.sqlLiteral, waiting = DeliveryState.waiting.sqlList
    /// A hold in force covers the `deliveries` row (SPEC §8).
    static let covered = HoldScope.sqlCovered(kind: "deliveries.kind", orderId: "deliveries.order_id")
    /// A new delivery's state and `held_from`, from `p.kind` and `p.order_id`.
    static let arrivalState = HoldScope.sqlArrivalState(kind: "p.kind", orderId: "p.order_id"),
        arrivalHeldFrom = HoldScope.sqlArrivalHeldFrom(kind: "p.kind", orderId: "p.order_id")

    func deliveries(_ rows: PostgresRowSequence) async throws -> [Delivery] {
        var result: [Delivery] = []
        for try await row in rows.decode(DeliveryRow.self) { result.append(try Self.delivery(row)) }
        return result
    }

    /// The first `limit` due deliveries by due time, each state read from its
    /// own range of `deliveries_waiting` in due order (one `OR` made the planner
    /// collect and sort every due delivery on every claim). Rows another worker
    /// has locked are skipped. One prepared statement, atomic by itself: rows
    /// locked beyond the limit are released when it ends.
    public func claimDue(at now: Date, limit: Int, lease: Lease) async throws -> [Delivery] {
        var claimed: [Delivery] = []
        for try await row in try await client.execute(
            PostgresStatements.Claim(now: now.timeIntervalSince1970, limit: Int64(limit), owner: lease.owner,
                                     leaseExpiresAt: lease.expiresAt.timeIntervalSince1970),
            logger: logger)
        {
            claimed.append(try Self.delivery(row))
        }
        return claimed.sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }
    }

    public func renewClaims(owner: String, until: Date) async throws -> Set<Int64> {
        var ids = Set<Int64>()
        for try await id in try await client.query(
            """
            UPDATE deliveries SET lease_expires_at = \(until.timeIntervalSince1970)
            WHERE state = \(unescaped: Self.sending) AND lease_owner = \(owner) RETURNING id
            """, logger: logger
        ).decode(Int64.self) {
            ids.insert(id)
        }
        return ids
    }

    /// Records a group of attempt results in one prepared statement (one round
    /// trip instead of two per result inside a transaction).
    public func complete(_ attempts: [CompletedAttempt], owner: String) async throws -> [Bool] {
        guard !attempts.isEmpty else { return [] }
        var held = Set<Int64>()
        // The attempt is history even when the claim was taken over meanwhile: it happened.
        for try await id in try await client.execute(
            PostgresStatements.AttemptCompletion(attempts: attempts, owner: owner,
                                                 events: deliveryEvents ? attempts.compactMap(DeliveryEvents.event) : []),
            logger: logger)
        {
            held.insert(id)
        }
        return attempts.map { held.contains($0.deliveryId) }
    }

    public func releaseClaims(owner: String) async throws {
        try await transaction { connection in
            var back: [DeliveryState: [Int64]] = [:]
            for try await (id, attempts) in try await connection.query(
                """
                SELECT id, attempts FROM deliveries WHERE state = \(unescaped: Self.sending) AND lease_owner = \(owner) FOR UPDATE
                """, logger: self.logger
            ).decode((Int64, Int64).self) {
                back[DeliveryState.released(attempts: Int(attempts)), default: []].append(id)
            }
            for (state, ids) in back {
                try await connection.query(
                    """
                    UPDATE deliveries SET state = \(state.rawValue), attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ANY(\(ids)) AND lease_owner = \(owner)
                    """, logger: self.logger
                ).consume()
            }
        }
    }

    public func storedOrder(_ orderId: String) async throws -> StoredOrder? {
        try await storedOrders([orderId])[orderId]
    }

    /// The orders of a claimed batch in two queries (`= ANY`), not two per order.
    public func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder] {
        guard !orderIds.isEmpty else { return [:] }
        let ids = Array(orderIds)
        var rows: [(String, Data, Double?, Double?, Bool, String, Double?, Double?)] = []
        for try await row in try await client.query(
            """
            SELECT o.order_id, o.document, o.cancelled_at, o.secrets_purged_at, COALESCE(c.portal_active, FALSE),
                o.customer_number, o.personal_data_erased_at, c.activated_at
            FROM orders o LEFT JOIN customers c ON c.customer_number = o.customer_number WHERE o.order_id = ANY(\(ids))
            """, logger: logger
        ).decode((String, Data, Double?, Double?, Bool, String, Double?, Double?).self) {
            rows.append(row)
        }
        var sealed: [String: [SealedSecret]] = [:]
        for try await (orderId, purpose, keyId, ciphertext) in try await client.query(
            "SELECT order_id, purpose, key_id, ciphertext FROM secrets WHERE order_id = ANY(\(ids)) ORDER BY order_id, purpose",
            logger: logger
        ).decode((String, String, String, Data).self) {
            sealed[orderId, default: []].append(SealedSecret(purpose: purpose, keyId: keyId, ciphertext: Array(ciphertext)))
        }
        var orders: [String: StoredOrder] = [:]
        for (orderId, document, cancelledAt, purgedAt, active, customerNumber, erasedAt, activatedAt) in rows {
            orders[orderId] = StoredOrder(
                order: erasedAt == nil ? try StoredDocument.decode(document) : nil, customerNumber: customerNumber,
                sealedSecrets: sealed[orderId] ?? [], portalActive: active, cancelled: cancelledAt != nil,
                secretsPurged: purgedAt != nil, personalDataErasedAt: erasedAt.map(Date.init(timeIntervalSince1970:)),
                activatedAt: activatedAt.map(Date.init(timeIntervalSince1970:)))
        }
        return orders
    }

    public func deliveries(orderId: String) async throws -> [Delivery] {
        try await deliveries(try await client.query(
            "SELECT \(unescaped: Self.deliveryColumns) FROM deliveries WHERE order_id = \(orderId) ORDER BY id", logger: logger))
    }

    public func orderIds(customerNumber: String) async throws -> [String] {
        var orderIds: [String] = []
        for try await orderId in try await client.query(
            "SELECT order_id FROM orders WHERE customer_number = \(customerNumber) ORDER BY received_at, order_id",
            logger: logger
        ).decode(String.self) {
            orderIds.append(orderId)
        }
        return orderIds
    }

    public func dueCount(at now: Date, limit: Int?) async throws -> Int {
        let t = now.timeIntervalSince1970
        var count = 0
        for try await n in try await client.query(
            """
            SELECT COUNT(*) FROM deliveries
            WHERE (state IN (\(unescaped: Self.waiting)) AND due_at <= \(t))
                OR (state = \(unescaped: Self.sending) AND lease_expires_at <= \(t))
            """, logger: logger
        ).decode(Int64.self) {
            count = Int(n)
        }
        return limit.map { min($0, count) } ?? count
    }

    func singleDate(_ query: PostgresQuery) async throws -> Date? {
        var result: Double?
        for try await value in try await client.query(query, logger: logger).decode(Double?.self) { result = value }
        return result.map(Date.init(timeIntervalSince1970:))
    }

    public func oldestWaitingDue(at now: Date) async throws -> Date? {
        try await singleDate(
            "SELECT MIN(due_at) FROM deliveries WHERE state IN (\(unescaped: Self.waiting)) AND due_at <= \(now.timeIntervalSince1970)")
    }

    public func nextDueDate() async throws -> Date? {
        try await singleDate(
            """
            SELECT MIN(t) FROM (
                SELECT MIN(due_at) AS t FROM deliveries WHERE state IN (\(unescaped: Self.waiting))
                UNION ALL
                SELECT MIN(lease_expires_at) FROM deliveries WHERE state = \(unescaped: Self.sending)) AS waiting
            """)
    }
}
