import FlexpostCore
import Foundation
import GRDB

/// SPEC §6: delivery events waiting for the order system (``DeliveryEventOutbox``).
extension SQLiteQueueStore {
    /// Persists events decided with a state change, in its transaction; an
    /// event already written (the same delivery ending the same way) stays as it is.
    static func insertEvents(_ db: Database, _ events: [DeliveryEventRecord]) throws {
        let insert = try db.cachedStatement(sql: """
            INSERT INTO delivery_events (webhook_id, delivery_id, type, at, detail, state, attempts, next_at)
            VALUES (?, ?, ?, ?, ?, \(DeliveryEventState.pending.sqlLiteral), 0, ?)
            ON CONFLICT DO NOTHING
            """)
        for event in events {
            try insert.execute(arguments: [event.webhookId, event.deliveryId, event.type.rawValue,
                                           event.at.timeIntervalSince1970, event.detail, event.at.timeIntervalSince1970])
        }
    }

    public func claimDeliveryEvents(at now: Date, leaseUntil: Date, limit: Int) async throws -> [PendingDeliveryEvent] {
        try await immediate { db in
            let claimed = try String.fetchAll(
                db,
                sql: """
                    UPDATE delivery_events SET next_at = ?
                    WHERE webhook_id IN (
                        SELECT webhook_id FROM delivery_events
                        WHERE state = \(DeliveryEventState.pending.sqlLiteral) AND next_at <= ?
                        ORDER BY next_at, webhook_id LIMIT ?)
                    RETURNING webhook_id
                    """,
                arguments: [leaseUntil.timeIntervalSince1970, now.timeIntervalSince1970, limit])
            guard !claimed.isEmpty else { return [] }
            // The claimed events with the facts their bodies name, in one read.
            let placeholders = claimed.map { _ in "?" }.joined(separator: ",")
            return try Row.fetchAll(
                db,
                sql: """
                    SELECT e.webhook_id, e.delivery_id, e.type, e.at, e.detail, e.attempts, e.retried_at,
                        d.order_id, o.customer_number, d.kind, d.recipient_email
                    FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id JOIN orders o ON o.order_id = d.order_id
                    WHERE e.webhook_id IN (\(placeholders))
                    ORDER BY e.at, e.webhook_id
                    """,
                arguments: StatementArguments(claimed)
            ).map { row in
                PendingDeliveryEvent(
                    record: try Self.eventRecord(row),
                    attempts: row["attempts"], orderId: row["order_id"], customerNumber: row["customer_number"],
                    kind: try DeliveryKind(stored: row["kind"], column: "deliveries.kind"), recipient: row["recipient_email"],
                    retriedAt: (row["retried_at"] as Double?).map(Date.init(timeIntervalSince1970:)))
            }
        }
    }

    /// An event as stored (columns `webhook_id`, `delivery_id`, `type`, `at`, `detail`).
    static func eventRecord(_ row: Row) throws -> DeliveryEventRecord {
        DeliveryEventRecord(webhookId: row["webhook_id"], deliveryId: row["delivery_id"],
                            type: try DeliveryEventType(stored: row["type"], column: "delivery_events.type"),
                            at: Date(timeIntervalSince1970: row["at"]), detail: row["detail"])
    }

    public func deliveryEventDelivered(webhookId: String) async throws {
        try await immediate { db in
            try db.run(sql: "DELETE FROM delivery_events WHERE webhook_id = ?", arguments: [webhookId])
        }
    }

    public func deliveryEventFailed(webhookId: String, nextAt: Date?, error: String) async throws {
        try await immediate { db in
            try db.run(
                sql: """
                    UPDATE delivery_events SET attempts = attempts + 1, last_error = ?,
                        state = CASE WHEN ? IS NULL THEN \(DeliveryEventState.failed.sqlLiteral) ELSE state END,
                        next_at = COALESCE(?, next_at)
                    WHERE webhook_id = ?
                    """,
                arguments: [error, nextAt?.timeIntervalSince1970, nextAt?.timeIntervalSince1970, webhookId])
        }
    }

    public func givenUpDeliveryEvents(limit: Int) async throws -> [GivenUpDeliveryEvent] {
        try await pool.read { db in
            try Row.fetchAll(
                db,
                sql: """
                    SELECT e.webhook_id, e.delivery_id, e.type, e.at, e.detail, e.attempts, e.last_error, d.order_id
                    FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id
                    WHERE e.state = \(DeliveryEventState.failed.sqlLiteral)
                    ORDER BY e.at, e.webhook_id LIMIT ?
                    """,
                arguments: [limit]
            ).map { row in
                GivenUpDeliveryEvent(
                    record: try Self.eventRecord(row),
                    orderId: row["order_id"], attempts: row["attempts"], lastError: row["last_error"])
            }
        }
    }

    public func retryDeliveryEvents(_ webhookIds: [String], at now: Date) async throws -> Int {
        guard !webhookIds.isEmpty else { return 0 }
        return try await immediate { db in
            var retried = 0
            let update = try db.cachedStatement(sql: """
                UPDATE delivery_events SET state = \(DeliveryEventState.pending.sqlLiteral), attempts = 0, next_at = ?, retried_at = ?
                WHERE webhook_id = ? AND state = \(DeliveryEventState.failed.sqlLiteral)
                """)
            for webhookId in webhookIds {
                try update.execute(arguments: [now.timeIntervalSince1970, now.timeIntervalSince1970, webhookId])
                retried += db.changesCount
            }
            return retried
        }
    }

    public func deliveryEventCounts() async throws -> (pending: Int, failed: Int) {
        try await pool.read { db in
            let rows = try Row.fetchAll(db, sql: "SELECT state, count(*) AS n FROM delivery_events GROUP BY state")
            var counts = (pending: 0, failed: 0)
            for row in rows {
                switch try DeliveryEventState(stored: row["state"], column: "delivery_events.state") {
                case .pending: counts.pending = row["n"]
                case .failed: counts.failed = row["n"]
                }
            }
            return counts
        }
    }
}
