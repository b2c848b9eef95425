import FlexpostCore
import Foundation
import PostgresNIO

/// The support side of the queue (``SupportReads``): the overview, search,
/// bounced and dead mail, an order's attempts and history, counts by state.
extension PostgresQueueStore {
    public func hourlyOutcomes(from: Date, to: Date) async throws -> [HourlyOutcome] {
        var hours: [Int64: HourlyOutcome] = [:]
        for try await (hour, state, count) in try await client.query(
            """
            SELECT floor(finished_at / 3600)::BIGINT AS hour, state, COUNT(*) FROM deliveries
            WHERE state IN (\(unescaped: [DeliveryState.sent, .dead, .bounced].sqlList))
              AND finished_at >= \(from.timeIntervalSince1970) AND finished_at < \(to.timeIntervalSince1970)
            GROUP BY hour, state
            """, logger: logger
        ).decode((Int64, String, Int64).self) {
            var outcome = hours[hour] ?? HourlyOutcome(hour: Date(timeIntervalSince1970: Double(hour) * 3_600))
            switch try DeliveryState(stored: state, column: "deliveries.state") {
            case .sent: outcome.sent = Int(count)
            case .dead: outcome.dead = Int(count)
            default: outcome.bounced = Int(count)
            }
            hours[hour] = outcome
        }
        return hours.values.sorted { $0.hour < $1.hour }
    }

    public func searchOrders(term: String, limit: Int) async throws -> [OrderMatch] {
        // Every order stored before the search is found: the backlog first.
        try await indexBacklog()
        var found: [OrderMatch] = []
        for try await (orderId, customer, received) in try await client.query(
            """
            SELECT o.order_id, o.customer_number, o.received_at FROM search_terms s
            JOIN orders o ON o.order_id = s.order_id
            WHERE s.term = \(term) ORDER BY o.received_at DESC, o.order_id DESC LIMIT \(limit)
            """, logger: logger
        ).decode((String, String, Double).self) {
            found.append(OrderMatch(orderId: orderId, customerNumber: customer, receivedAt: Date(timeIntervalSince1970: received)))
        }
        return found
    }

    /// Takes the backlog's rows with `FOR UPDATE`: a second process indexing
    /// at the same moment waits for this one, then skips the rows it deleted,
    /// so a search never returns before the orders ahead of it are indexed.
    public func indexStoredOrders(limit: Int) async throws -> Int {
        try await transaction { connection in
            var taken: [(String, String?, Data?, Double?)] = []
            for try await row in try await connection.query(
                """
                WITH taken AS (
                    DELETE FROM search_backlog WHERE order_id IN (
                        SELECT order_id FROM search_backlog LIMIT \(limit) FOR UPDATE)
                    RETURNING order_id)
                SELECT t.order_id, o.customer_number, o.document, o.personal_data_erased_at
                FROM taken t LEFT JOIN orders o ON o.order_id = t.order_id
                """, logger: logger
            ).decode((String, String?, Data?, Double?).self) {
                taken.append(row)
            }
            // The connection answers one query at a time: the rows are read first,
            // then the batch's terms go in one statement.
            var terms: [String] = [], orderIds: [String] = []
            for (orderId, customerNumber, document, erasedAt) in taken {
                guard let customerNumber, let document else { continue }
                // A document that cannot be read (erased, or damaged) is found by its ids:
                // one bad row must not stop every search.
                let order = erasedAt == nil ? try? StoredDocument.decode(document) : nil
                for term in OrderSearch.terms(orderId: orderId, customerNumber: customerNumber, document: order) {
                    terms.append(term)
                    orderIds.append(orderId)
                }
            }
            try await addSearchTerms(connection, terms: terms, orderIds: orderIds)
            return taken.count
        }
    }

    /// Each `terms[i]` finds `orderIds[i]`; one statement for any number of orders.
    func addSearchTerms(_ connection: PostgresConnection, terms: [String], orderIds: [String]) async throws {
        guard !terms.isEmpty else { return }
        try await connection.query(
            """
            INSERT INTO search_terms (term, order_id) SELECT * FROM unnest(\(terms)::TEXT[], \(orderIds)::TEXT[])
            ON CONFLICT DO NOTHING
            """, logger: logger
        ).consume()
    }

    public func bouncedDeliveries(endedFrom from: Date, to: Date, limit: Int) async throws -> [BouncedDelivery] {
        var said: [(Int64, String?, String?)] = []
        for try await row in try await client.query(
            """
            SELECT d.id, b.status, b.diagnostic FROM deliveries d
            JOIN bounces b ON b.delivery_id = d.id AND b.class = \(unescaped: BounceClass.failed.sqlLiteral)
            WHERE d.state = \(unescaped: DeliveryState.bounced.sqlLiteral)
              AND d.finished_at >= \(from.timeIntervalSince1970) AND d.finished_at <= \(to.timeIntervalSince1970)
            ORDER BY d.finished_at DESC, d.id DESC LIMIT \(limit)
            """, logger: logger
        ).decode((Int64, String?, String?).self) {
            said.append(row)
        }
        guard !said.isEmpty else { return [] }
        var byId: [Int64: Delivery] = [:]
        for delivery in try await deliveries(try await client.query(
            "SELECT \(unescaped: Self.deliveryColumns) FROM deliveries WHERE id = ANY(\(said.map(\.0)))", logger: logger))
        {
            byId[delivery.id] = delivery
        }
        return said.compactMap { id, status, diagnostic in
            byId[id].map { BouncedDelivery(delivery: $0, status: status, diagnostic: diagnostic) }
        }
    }

    public func bounceCounts() async throws -> [BounceCount] {
        var counts: [BounceCount] = []
        for try await (kind, bounceClass, count) in try await client.query(
            "SELECT d.kind, b.class, COUNT(*) FROM bounces b JOIN deliveries d ON d.id = b.delivery_id GROUP BY d.kind, b.class",
            logger: logger
        ).decode((String, String, Int64).self) {
            counts.append(BounceCount(kind: try DeliveryKind(stored: kind, column: "deliveries.kind"),
                                      bounceClass: try BounceClass(stored: bounceClass, column: "bounces.class"), count: Int(count)))
        }
        return counts
    }

    public func delivery(messageId: String) async throws -> (deliveryId: Int64, orderId: String)? {
        for try await (id, orderId) in try await client.query(
            "SELECT id, order_id FROM deliveries WHERE message_id = \(messageId) ORDER BY id LIMIT 1", logger: logger
        ).decode((Int64, String).self) {
            return (id, orderId)
        }
        return nil
    }

    public func orderId(ofDelivery deliveryId: Int64) async throws -> String? {
        for try await orderId in try await client.query(
            "SELECT order_id FROM deliveries WHERE id = \(deliveryId)", logger: logger
        ).decode(String.self) {
            return orderId
        }
        return nil
    }

    public func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery] {
        try await deliveries(try await client.query(
            """
            SELECT \(unescaped: Self.deliveryColumns) FROM deliveries
            WHERE \(state?.rawValue)::text IS NULL OR state = \(state?.rawValue) ORDER BY due_at, id LIMIT \(limit)
            """, logger: logger))
    }

    public func deadDeliveries(endedFrom from: Date, to: Date, limit: Int, newestFirst: Bool) async throws -> [Delivery] {
        let from = from.timeIntervalSince1970, to = to.timeIntervalSince1970
        let order = newestFirst ? "finished_at DESC, id DESC" : "finished_at, id"
        return try await deliveries(try await client.query(
            """
            SELECT \(unescaped: Self.deliveryColumns) FROM deliveries
            WHERE state = \(unescaped: DeliveryState.dead.sqlLiteral) AND finished_at >= \(from) AND finished_at <= \(to) ORDER BY \(unescaped: order) LIMIT \(limit)
            """, logger: logger))
    }

    public func attempts(orderId: String) async throws -> [AttemptEntry] {
        var result: [AttemptEntry] = []
        for try await r in try await client.query(
            """
            SELECT a.delivery_id, a.started_at, a.finished_at, a.outcome, a.reply_code, a.reply
            FROM attempts a JOIN deliveries d ON d.id = a.delivery_id WHERE d.order_id = \(orderId) ORDER BY a.id
            """, logger: logger
        ).decode((Int64, Double, Double, String, Int64?, String).self) {
            result.append(AttemptEntry(
                deliveryId: r.0, startedAt: Date(timeIntervalSince1970: r.1), finishedAt: Date(timeIntervalSince1970: r.2),
                outcome: try DeliveryState(stored: r.3, column: "attempts.outcome"), replyCode: r.4.map(Int.init), reply: r.5))
        }
        return result
    }

    public func history(orderId: String) async throws -> [HistoryEntry] {
        var result: [HistoryEntry] = []
        for try await r in try await client.query(
            "SELECT at, actor, action, detail FROM history WHERE order_id = \(orderId) ORDER BY id", logger: logger
        ).decode((Double, String, String, String).self) {
            result.append(HistoryEntry(at: Date(timeIntervalSince1970: r.0), actor: r.1,
                                       action: try HistoryAction(stored: r.2, column: "history.action"), detail: r.3))
        }
        return result
    }

    public func countsByState() async throws -> [DeliveryState: Int] {
        var counts: [DeliveryState: Int] = [:]
        for try await (state, n) in try await client.query(
            "SELECT state, COUNT(*) FROM deliveries GROUP BY state", logger: logger
        ).decode((String, Int64).self) {
            counts[try DeliveryState(stored: state, column: "deliveries.state")] = Int(n)
        }
        return counts
    }
}
