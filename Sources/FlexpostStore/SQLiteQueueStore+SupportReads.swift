import FlexpostCore
import Foundation
import GRDB

/// The support side of the queue (``SupportReads``): the overview, search,
/// bounced and dead mail, an order's attempts and history, counts by state.
extension SQLiteQueueStore {
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
        // Every order stored before the search is found: the backlog first.
        if try await pool.read({ db in try Bool.fetchOne(db, sql: "SELECT EXISTS (SELECT 1 FROM search_backlog)") ?? false }) {
            try await indexBacklog()
        }
        return try await pool.read { db in
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

    public func indexStoredOrders(limit: Int) async throws -> Int {
        try await immediate { db in
            let rows = try Row.fetchAll(
                db.cachedStatement(sql: """
                    SELECT b.order_id, o.customer_number, o.document, o.personal_data_erased_at FROM search_backlog b
                    LEFT JOIN orders o ON o.order_id = b.order_id LIMIT ?
                    """),
                arguments: [limit])
            for row in rows {
                let orderId: String = row[0]
                try db.run(sql: "DELETE FROM search_backlog WHERE order_id = ?", arguments: [orderId])
                guard let customerNumber = row[1] as String? else { continue }
                // A document that cannot be read (erased, or damaged) is found by its ids:
                // one bad row must not stop every search.
                let document = (row[3] as Double?) == nil ? try? StoredDocument.decode(row[2] as Data) : nil
                try Self.addSearchTerms(
                    db, orderId: orderId, OrderSearch.terms(orderId: orderId, customerNumber: customerNumber, document: document))
            }
            return rows.count
        }
    }

    static func addSearchTerms(_ db: Database, orderId: String, _ terms: some Sequence<String>) throws {
        for term in terms {
            try db.run(sql: "INSERT INTO search_terms (term, order_id) VALUES (?, ?) ON CONFLICT DO NOTHING",
                       arguments: [term, orderId])
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
}
