import FlexpostCore
import Foundation
import GRDB

/// Operators' holds on SQLite (SPEC §8): decided by ``HoldRules``, recorded
/// here in one `BEGIN IMMEDIATE` transaction.
extension SQLiteQueueStore {
    static let covered = HoldScope.sqlCovered(kind: "deliveries.kind", orderId: "deliveries.order_id")

    public func holds() async throws -> [Hold] {
        try await pool.read { db in try Self.holds(db) }
    }

    static func holds(_ db: Database) throws -> [Hold] {
        try Row.fetchAll(db, sql: "SELECT id, kind, order_id, actor, reason, since FROM holds ORDER BY id").map { row in
            Hold(id: row[0],
                 scope: HoldScope(kind: try (row[1] as String?).map { try DeliveryKind(stored: $0, column: "holds.kind") },
                                  orderId: row[2]),
                 actor: row[3], reason: row[4], since: Date(timeIntervalSince1970: row[5]))
        }
    }

    public func decideHolds(orderId: String?, _ decide: @escaping @Sendable (HoldFacts) -> HoldDecision) async throws
        -> HoldResult
    {
        try await immediate { db in
            let known = try orderId.map {
                try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM orders WHERE order_id = ?)", arguments: [$0])
                    ?? false
            } ?? true
            let decision = decide(HoldFacts(holds: try Self.holds(db), orderKnown: known))
            var held = 0, released = 0
            for change in decision.changes {
                switch change {
                case .addHold(let request, let at):
                    try db.run(
                        sql: "INSERT INTO holds (kind, order_id, actor, reason, since) VALUES (?, ?, ?, ?, ?)",
                        arguments: [request.scope.kind?.rawValue, request.scope.orderId, request.actor, request.reason,
                                    at.timeIntervalSince1970])
                case .removeHolds(let ids):
                    for id in ids { try db.run(sql: "DELETE FROM holds WHERE id = ?", arguments: [id]) }
                case .holdCovered(let note):
                    let orders = try String.fetchAll(
                        db,
                        sql: """
                            UPDATE deliveries SET held_from = state, state = \(DeliveryState.held.sqlLiteral)
                            WHERE state IN (\(Self.waiting)) AND \(Self.covered)
                            RETURNING order_id
                            """)
                    held += orders.count
                    for orderId in Set(orders) { try Self.addHistory(db, orderId: orderId, note) }
                case .releaseUncovered(let note):
                    let orders = try String.fetchAll(
                        db,
                        sql: """
                            UPDATE deliveries SET state = held_from, held_from = NULL
                            WHERE state = \(DeliveryState.held.sqlLiteral) AND NOT \(Self.covered)
                            RETURNING order_id
                            """)
                    released += orders.count
                    for orderId in Set(orders) { try Self.addHistory(db, orderId: orderId, note) }
                }
            }
            return HoldResult(outcome: decision.outcome, held: held, released: released)
        }
    }

    public func holdClaims(_ ids: [Int64], owner: String, note: HistoryEntry) async throws {
        guard !ids.isEmpty else { return }
        try await immediate { db in
            let update = try db.cachedStatement(sql: """
                UPDATE deliveries
                SET state = \(DeliveryState.held.sqlLiteral), held_from = ?, attempts = attempts - 1,
                    lease_owner = NULL, lease_expires_at = NULL
                WHERE id = ? AND state = \(Self.sending) AND lease_owner = ?
                RETURNING order_id
                """)
            var orders = Set<String>()
            for id in ids {
                guard let attempts = try Int.fetchOne(
                    db, sql: "SELECT attempts FROM deliveries WHERE id = ? AND state = \(Self.sending) AND lease_owner = ?",
                    arguments: [id, owner])
                else { continue }
                let back = DeliveryState.released(attempts: attempts).rawValue
                if let orderId = try String.fetchOne(update, arguments: [back, id, owner]) { orders.insert(orderId) }
            }
            for orderId in orders { try Self.addHistory(db, orderId: orderId, note) }
        }
    }
}
