import FlexpostCore
import Foundation
import PostgresNIO

/// Operators' holds on PostgreSQL (SPEC §8): decided by ``HoldRules``,
/// recorded here in one transaction. Hold decisions take the `holds` table's
/// lock first, so that two operators holding the same scope at once record
/// one hold, and a release never misses a hold taken meanwhile.
extension PostgresQueueStore {
    public func holds() async throws -> [Hold] {
        try await client.withConnection { connection in try await self.holds(connection) }
    }

    func holds(_ connection: PostgresConnection) async throws -> [Hold] {
        var holds: [Hold] = []
        for try await (id, kind, orderId, actor, reason, since) in try await connection.query(
            "SELECT id, kind, order_id, actor, reason, since FROM holds ORDER BY id", logger: logger
        ).decode((Int64, String?, String?, String, String, Double).self) {
            holds.append(Hold(
                id: id, scope: HoldScope(kind: try kind.map { try DeliveryKind(stored: $0, column: "holds.kind") },
                                         orderId: orderId),
                actor: actor, reason: reason, since: Date(timeIntervalSince1970: since)))
        }
        return holds
    }

    public func decideHolds(orderId: String?, _ decide: @escaping @Sendable (HoldFacts) -> HoldDecision) async throws
        -> HoldResult
    {
        try await transaction { connection in
            try await connection.query("LOCK TABLE holds IN SHARE ROW EXCLUSIVE MODE", logger: self.logger).consume()
            var known = true
            if let orderId {
                for try await exists in try await connection.query(
                    "SELECT EXISTS (SELECT 1 FROM orders WHERE order_id = \(orderId))", logger: self.logger
                ).decode(Bool.self) {
                    known = exists
                }
            }
            let decision = decide(HoldFacts(holds: try await self.holds(connection), orderKnown: known))
            var held = 0, released = 0
            for change in decision.changes {
                switch change {
                case .addHold(let request, let at):
                    try await connection.query(
                        """
                        INSERT INTO holds (kind, order_id, actor, reason, since)
                        VALUES (\(request.scope.kind?.rawValue), \(request.scope.orderId), \(request.actor),
                            \(request.reason), \(at.timeIntervalSince1970))
                        """, logger: self.logger
                    ).consume()
                case .removeHolds(let ids):
                    try await connection.query("DELETE FROM holds WHERE id = ANY(\(ids))", logger: self.logger).consume()
                case .holdCovered(let note):
                    let orders = try await self.orderIds(connection.query(
                        """
                        UPDATE deliveries SET held_from = state, state = \(unescaped: DeliveryState.held.sqlLiteral)
                        WHERE state IN (\(unescaped: Self.waiting)) AND \(unescaped: Self.covered)
                        RETURNING order_id
                        """, logger: self.logger))
                    held += orders.count
                    try await self.note(connection, Set(orders), note)
                case .releaseUncovered(let note):
                    let orders = try await self.orderIds(connection.query(
                        """
                        UPDATE deliveries SET state = held_from, held_from = NULL
                        WHERE state = \(unescaped: DeliveryState.held.sqlLiteral) AND NOT \(unescaped: Self.covered)
                        RETURNING order_id
                        """, logger: self.logger))
                    released += orders.count
                    try await self.note(connection, Set(orders), note)
                }
            }
            return HoldResult(outcome: decision.outcome, held: held, released: released)
        }
    }

    public func holdClaims(_ ids: [Int64], owner: String, note: HistoryEntry) async throws {
        guard !ids.isEmpty else { return }
        try await transaction { connection in
            var back: [DeliveryState: [Int64]] = [:]
            for try await (id, attempts) in try await connection.query(
                """
                SELECT id, attempts FROM deliveries
                WHERE id = ANY(\(ids)) AND state = \(unescaped: Self.sending) AND lease_owner = \(owner) FOR UPDATE
                """, logger: self.logger
            ).decode((Int64, Int64).self) {
                back[DeliveryState.released(attempts: Int(attempts)), default: []].append(id)
            }
            var orders = Set<String>()
            for (state, ids) in back {
                orders.formUnion(try await self.orderIds(connection.query(
                    """
                    UPDATE deliveries SET state = \(unescaped: DeliveryState.held.sqlLiteral), held_from = \(state.rawValue),
                        attempts = attempts - 1, lease_owner = NULL, lease_expires_at = NULL
                    WHERE id = ANY(\(ids)) AND lease_owner = \(owner)
                    RETURNING order_id
                    """, logger: self.logger)))
            }
            try await self.note(connection, orders, note)
        }
    }

    private func orderIds(_ rows: PostgresRowSequence) async throws -> [String] {
        var orders: [String] = []
        for try await orderId in rows.decode(String.self) { orders.append(orderId) }
        return orders
    }

    /// One history line per order, in one statement.
    private func note(_ connection: PostgresConnection, _ orders: Set<String>, _ entry: HistoryEntry) async throws {
        guard !orders.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO history (order_id, at, actor, action, detail)
            SELECT o, \(entry.at.timeIntervalSince1970), \(entry.actor), \(entry.action.rawValue), \(entry.detail)
            FROM unnest(\(orders.sorted())::TEXT[]) AS o
            """, logger: logger
        ).consume()
    }
}
