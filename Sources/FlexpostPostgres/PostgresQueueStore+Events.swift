import FlexpostCore
import Foundation
import PostgresNIO

/// SPEC §6: delivery events waiting for the order system (``DeliveryEventOutbox``);
/// claims skip rows another process holds, as the delivery queue's do.
extension PostgresQueueStore {
    /// Persists events decided with a state change, in its transaction; an
    /// event already written (the same delivery ending the same way) stays as it is.
    func insertEvents(_ connection: PostgresConnection, _ events: [DeliveryEventRecord]) async throws {
        for event in events {
            try await connection.query(
                """
                INSERT INTO delivery_events (webhook_id, delivery_id, type, at, detail, state, attempts, next_at)
                VALUES (\(event.webhookId), \(event.deliveryId), \(event.type.rawValue), \(event.at.timeIntervalSince1970),
                        \(event.detail), \(unescaped: DeliveryEventState.pending.sqlLiteral), 0, \(event.at.timeIntervalSince1970))
                ON CONFLICT DO NOTHING
                """, logger: logger
            ).consume()
        }
    }

    public func claimDeliveryEvents(at now: Date, leaseUntil: Date, limit: Int) async throws -> [PendingDeliveryEvent] {
        var claimed: [PendingDeliveryEvent] = []
        for try await (webhookId, deliveryId, type, at, detail, attempts, retriedAt, orderId, customer, kind, recipient)
            in try await client.query(
            """
            WITH due AS (
                SELECT webhook_id FROM delivery_events
                WHERE state = \(unescaped: DeliveryEventState.pending.sqlLiteral) AND next_at <= \(now.timeIntervalSince1970)
                ORDER BY next_at, webhook_id LIMIT \(limit) FOR UPDATE SKIP LOCKED),
            claimed AS (
                UPDATE delivery_events e SET next_at = \(leaseUntil.timeIntervalSince1970) FROM due
                WHERE e.webhook_id = due.webhook_id
                RETURNING e.webhook_id, e.delivery_id, e.type, e.at, e.detail, e.attempts, e.retried_at)
            SELECT c.webhook_id, c.delivery_id, c.type, c.at, c.detail, c.attempts, c.retried_at,
                d.order_id, o.customer_number, d.kind, d.recipient_email
            FROM claimed c JOIN deliveries d ON d.id = c.delivery_id JOIN orders o ON o.order_id = d.order_id
            ORDER BY c.at, c.webhook_id
            """, logger: logger
        ).decode((String, Int64, String, Double, String?, Int, Double?, String, String, String, String).self) {
            claimed.append(PendingDeliveryEvent(
                record: try Self.eventRecord(webhookId, deliveryId, type, at, detail),
                attempts: attempts, orderId: orderId, customerNumber: customer,
                kind: try DeliveryKind(stored: kind, column: "deliveries.kind"), recipient: recipient,
                retriedAt: retriedAt.map(Date.init(timeIntervalSince1970:))))
        }
        return claimed
    }

    /// An event as stored (columns `webhook_id`, `delivery_id`, `type`, `at`, `detail`).
    static func eventRecord(_ webhookId: String, _ deliveryId: Int64, _ type: String, _ at: Double, _ detail: String?) throws
        -> DeliveryEventRecord
    {
        DeliveryEventRecord(webhookId: webhookId, deliveryId: deliveryId,
                            type: try DeliveryEventType(stored: type, column: "delivery_events.type"),
                            at: Date(timeIntervalSince1970: at), detail: detail)
    }

    public func deliveryEventDelivered(webhookId: String) async throws {
        try await client.query("DELETE FROM delivery_events WHERE webhook_id = \(webhookId)", logger: logger).consume()
    }

    public func deliveryEventFailed(webhookId: String, nextAt: Date?, error: String) async throws {
        let next = nextAt?.timeIntervalSince1970
        try await client.query(
            """
            UPDATE delivery_events SET attempts = attempts + 1, last_error = \(error),
                state = CASE WHEN \(next)::DOUBLE PRECISION IS NULL THEN \(unescaped: DeliveryEventState.failed.sqlLiteral) ELSE state END,
                next_at = COALESCE(\(next)::DOUBLE PRECISION, next_at)
            WHERE webhook_id = \(webhookId)
            """, logger: logger
        ).consume()
    }

    public func givenUpDeliveryEvents(limit: Int) async throws -> [GivenUpDeliveryEvent] {
        var events: [GivenUpDeliveryEvent] = []
        for try await (webhookId, deliveryId, type, at, detail, attempts, lastError, orderId) in try await client.query(
            """
            SELECT e.webhook_id, e.delivery_id, e.type, e.at, e.detail, e.attempts, e.last_error, d.order_id
            FROM delivery_events e JOIN deliveries d ON d.id = e.delivery_id
            WHERE e.state = \(unescaped: DeliveryEventState.failed.sqlLiteral)
            ORDER BY e.at, e.webhook_id LIMIT \(limit)
            """, logger: logger
        ).decode((String, Int64, String, Double, String?, Int, String?, String).self) {
            events.append(GivenUpDeliveryEvent(
                record: try Self.eventRecord(webhookId, deliveryId, type, at, detail),
                orderId: orderId, attempts: attempts, lastError: lastError))
        }
        return events
    }

    public func retryDeliveryEvents(_ webhookIds: [String], at now: Date) async throws -> Int {
        guard !webhookIds.isEmpty else { return 0 }
        let at = now.timeIntervalSince1970
        var retried = 0
        for try await _ in try await client.query(
            """
            UPDATE delivery_events SET state = \(unescaped: DeliveryEventState.pending.sqlLiteral), attempts = 0,
                next_at = \(at), retried_at = \(at)
            WHERE webhook_id = ANY(\(webhookIds)) AND state = \(unescaped: DeliveryEventState.failed.sqlLiteral)
            RETURNING webhook_id
            """, logger: logger
        ).decode(String.self) {
            retried += 1
        }
        return retried
    }

    public func deliveryEventCounts() async throws -> (pending: Int, failed: Int) {
        var counts = (pending: 0, failed: 0)
        for try await (state, count) in try await client.query(
            "SELECT state, count(*) FROM delivery_events GROUP BY state", logger: logger
        ).decode((String, Int).self) {
            switch try DeliveryEventState(stored: state, column: "delivery_events.state") {
            case .pending: counts.pending = count
            case .failed: counts.failed = count
            }
        }
        return counts
    }
}
