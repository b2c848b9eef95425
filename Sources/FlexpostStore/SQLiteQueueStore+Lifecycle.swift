import FlexpostCore
import Foundation
import GRDB

/// The rules' decisions on SQLite: the facts read and the changes written in
/// one `BEGIN IMMEDIATE` transaction (or inside the intake's, for R5).
extension SQLiteQueueStore {
    public func decide<Outcome: Sendable>(
        orderIds: [String], _ decide: @escaping @Sendable ([String: OrderFacts]) -> Decision<Outcome>
    ) async throws -> Recorded<Outcome> {
        let events = deliveryEvents
        let (recorded, destroyed) = try await immediate { db in
            var destroyed = false
            let recorded = try Self.decide(db, orderIds: orderIds, events: events) { facts in
                let decision = decide(facts)
                destroyed = decision.changes.contains {
                    switch $0 {
                    case .destroySecrets, .erasePersonalData, .eraseCustomerRecipients: true
                    default: false
                    }
                }
                return decision
            }
            return (recorded, destroyed)
        }
        if destroyed { await checkpoint() }
        return recorded
    }

    /// Moves the WAL into the database file and empties it: the pages that
    /// held destroyed secrets stay in the `-wal` file until a checkpoint, and
    /// `secure_delete` zeroes them in the database file only when they get
    /// there. Best effort: a reader holding an old snapshot lets part of the
    /// WAL stay until the next one.
    func checkpoint() async {
        _ = try? await pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA wal_checkpoint(TRUNCATE)") }
    }

    /// - Parameter events: also persist the delivery events of the decision (``DeliveryEvents/adding(to:)``).
    static func decide<Outcome: Sendable>(
        _ db: Database, orderIds: [String], events: Bool, _ decide: ([String: OrderFacts]) -> Decision<Outcome>
    ) throws -> Recorded<Outcome> {
        var facts: [String: OrderFacts] = [:]
        for orderId in orderIds {
            facts[orderId] = try orderFacts(db, orderId)
        }
        let decision = decide(facts)
        let changes = events ? DeliveryEvents.adding(to: decision.changes) : decision.changes
        return Recorded(outcome: decision.outcome, scheduled: try record(db, changes))
    }

    static func orderFacts(_ db: Database, _ orderId: String) throws -> OrderFacts? {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT customer_number, cancelled_at, secrets_purged_at,
                    EXISTS (SELECT 1 FROM secrets s WHERE s.order_id = o.order_id), received_at, personal_data_erased_at
                FROM orders o WHERE order_id = ?
                """),
            arguments: [orderId])
        else { return nil }
        let deliveries = try Row.fetchAll(
            db.cachedStatement(sql: "SELECT \(deliveryColumns) FROM deliveries WHERE order_id = ? ORDER BY id"),
            arguments: [orderId]
        ).map(delivery)
        let resends = try Double.fetchAll(
            db.cachedStatement(sql: "SELECT at FROM history WHERE order_id = ? AND action = ?"),
            arguments: [orderId, HistoryAction.resend.rawValue])
        let recipients = try customerRecipients(db, customerNumber: row[0])
        let bounceKeys = try String.fetchAll(
            db.cachedStatement(sql: "SELECT b.key FROM bounces b JOIN deliveries d ON d.id = b.delivery_id WHERE d.order_id = ?"),
            arguments: [orderId])
        return OrderFacts(
            orderId: orderId, customerNumber: row[0], cancelledAt: (row[1] as Double?).map(Date.init(timeIntervalSince1970:)),
            secretsPurgedAt: (row[2] as Double?).map(Date.init(timeIntervalSince1970:)), holdsSecrets: row[3],
            deliveries: deliveries, resendTimes: resends.map(Date.init(timeIntervalSince1970:)),
            receivedAt: Date(timeIntervalSince1970: row[4]),
            personalDataErasedAt: (row[5] as Double?).map(Date.init(timeIntervalSince1970:)), bounceKeys: Set(bounceKeys),
            recipients: recipients)
    }

    /// SPEC §6: the customer's recipients as last corrected (none when never).
    static func customerRecipients(_ db: Database, customerNumber: String) throws -> CustomerRecipients {
        guard let row = try Row.fetchOne(
            db.cachedStatement(sql: """
                SELECT contact_name, contact_email, contact_changed_at, administrators, administrators_changed_at
                FROM customers WHERE customer_number = ?
                """),
            arguments: [customerNumber])
        else { return .none }
        let contact = try (row[1] as String?).map { try Contact.stored(name: row[0] ?? "", email: $0) }
        return CustomerRecipients(
            contact: contact, contactChangedAt: (row[2] as Double?).map(Date.init(timeIntervalSince1970:)),
            administrators: try (row[3] as String?).map {
                try CustomerRecipients.administrators(storedText: $0, column: "customers.administrators")
            },
            administratorsChangedAt: (row[4] as Double?).map(Date.init(timeIntervalSince1970:)))
    }

    /// Persists a decision's changes; returns the deliveries it scheduled.
    static func record(_ db: Database, _ changes: [QueueChange]) throws -> [Delivery] {
        var scheduled: [Int64] = []
        for change in changes {
            switch change {
            case .finish(let deliveryIds, let state, let at):
                for id in deliveryIds {
                    try db.run(
                        sql: """
                            UPDATE deliveries SET state = ?, lease_owner = NULL, lease_expires_at = NULL, finished_at = ?,
                                held_from = NULL
                            WHERE id = ?
                            """,
                        arguments: [state.rawValue, at.timeIntervalSince1970, id])
                }
            case .destroySecrets(let orderId, let at):
                try db.run(sql: "DELETE FROM secrets WHERE order_id = ?", arguments: [orderId])
                try db.run(sql: "UPDATE orders SET secrets_purged_at = COALESCE(secrets_purged_at, ?) WHERE order_id = ?",
                           arguments: [at.timeIntervalSince1970, orderId])
            case .markCancelled(let orderId, let at):
                try db.run(sql: "UPDATE orders SET cancelled_at = ? WHERE order_id = ?",
                           arguments: [at.timeIntervalSince1970, orderId])
            case .schedule(let orderId, let deliveries, let at):
                for new in deliveries {
                    let planned = new.planned
                    try db.run(
                        sql: """
                            INSERT INTO deliveries (order_id, kind, recipient_name, recipient_email, language, state,
                                held_from, due_at, first_due_at, message_id, created_at, resend_of_kind)
                            VALUES (?1, ?2, ?3, ?4, ?5, \(arrivalState), \(arrivalHeldFrom), ?6, ?6, ?7, ?8, ?9)
                            """,
                        arguments: [orderId, planned.kind.rawValue, planned.recipient.name, planned.recipient.email.value,
                                    planned.language.rawValue, planned.dueAt.timeIntervalSince1970,
                                    planned.messageID, at.timeIntervalSince1970,
                                    new.isResend ? planned.kind.rawValue : nil])
                    scheduled.append(db.lastInsertedRowID)
                }
            case .note(let orderId, let entry):
                try addHistory(db, orderId: orderId, entry)
            case .readdress(let deliveryIds, let contact):
                for id in deliveryIds {
                    try db.run(sql: "UPDATE deliveries SET recipient_name = ?, recipient_email = ? WHERE id = ?",
                               arguments: [contact.name, contact.email.value, id])
                }
            case .setRecipients(let change):
                try db.run(sql: "INSERT INTO customers (customer_number, portal_active) VALUES (?, 0) ON CONFLICT DO NOTHING",
                           arguments: [change.customerNumber])
                switch change.recipients {
                case .contact(let contact):
                    try db.run(
                        sql: """
                            UPDATE customers SET contact_name = ?, contact_email = ?, contact_changed_at = ?
                            WHERE customer_number = ?
                            """,
                        arguments: [contact.name, contact.email.value, change.changedAt.timeIntervalSince1970, change.customerNumber])
                case .administrators(let administrators):
                    try db.run(
                        sql: "UPDATE customers SET administrators = ?, administrators_changed_at = ? WHERE customer_number = ?",
                        arguments: [CustomerRecipients.storedText(administrators), change.changedAt.timeIntervalSince1970,
                                    change.customerNumber])
                }
            case .recordBounce(let key, let deliveryId, let at, let bounceClass, let status, let diagnostic):
                try db.run(
                    sql: """
                        INSERT INTO bounces (key, delivery_id, received_at, class, status, diagnostic) VALUES (?, ?, ?, ?, ?, ?)
                        ON CONFLICT DO NOTHING
                        """,
                    arguments: [key, deliveryId, at.timeIntervalSince1970, bounceClass.rawValue, status, diagnostic])
            case .eraseCustomerRecipients(let customerNumber):
                try db.run(
                    sql: """
                        UPDATE customers SET contact_name = NULL, contact_email = NULL, administrators = NULL
                        WHERE customer_number = ?
                        """,
                    arguments: [customerNumber])
            case .emitDeliveryEvent(let event):
                try insertEvents(db, [event])
            case .addSearchTerms(let orderId, let terms):
                try Self.addSearchTerms(db, orderId: orderId, terms)
            case .erasePersonalData(let orderId, let quoted, let blanked, let keptTerms, let at):
                let kept = keptTerms.map { _ in "?" }.joined(separator: ", ")
                try db.run(sql: "DELETE FROM search_terms WHERE order_id = ? AND term NOT IN (\(kept))",
                           arguments: StatementArguments([orderId] + keptTerms))
                for action in blanked {
                    try db.run(sql: "UPDATE history SET detail = '[erased]' WHERE order_id = ? AND action = ?",
                               arguments: [orderId, action.rawValue])
                }
                try db.run(
                    sql: """
                        UPDATE orders SET document = x'', personal_data_erased_at = COALESCE(personal_data_erased_at, ?)
                        WHERE order_id = ?
                        """,
                    arguments: [at.timeIntervalSince1970, orderId])
                try db.run(sql: "UPDATE deliveries SET recipient_name = '', recipient_email = '' WHERE order_id = ?",
                           arguments: [orderId])
                for text in quoted {
                    try db.run(sql: "UPDATE history SET detail = replace(detail, ?, '[erased]') WHERE order_id = ?",
                               arguments: [text, orderId])
                    try db.run(sql: "UPDATE deliveries SET last_reply = replace(last_reply, ?, '[erased]') WHERE order_id = ?",
                               arguments: [text, orderId])
                    // What relays and bounce reports said quoting the recipient: the
                    // attempts, the bounces' diagnostics, the delivery events not yet taken.
                    for (table, column) in [("attempts", "reply"), ("bounces", "diagnostic"), ("delivery_events", "detail")] {
                        try db.run(
                            sql: """
                                UPDATE \(table) SET \(column) = replace(\(column), ?, '[erased]')
                                WHERE delivery_id IN (SELECT id FROM deliveries WHERE order_id = ?)
                                """,
                            arguments: [text, orderId])
                    }
                }
            }
        }
        guard !scheduled.isEmpty else { return [] }
        let placeholders = scheduled.map { _ in "?" }.joined(separator: ",")
        return try Row.fetchAll(
            db, sql: "SELECT \(deliveryColumns) FROM deliveries WHERE id IN (\(placeholders)) ORDER BY id",
            arguments: StatementArguments(scheduled)
        ).map(delivery)
    }
}

extension SQLiteQueueStore {
    public func recordRecipientChange(_ identity: EventIdentity, _ change: RecipientChange, receivedAt: Date,
                                      messageID: @escaping @Sendable () -> String) async throws -> IntakeOutcome {
        let fingerprint = identity.fingerprint(nil), events = deliveryEvents
        return try await intake.submit { db in
            if let outcome = try Self.checkEvent(db, identity, fingerprint, at: receivedAt) { return outcome }
            let orderIds = try String.fetchAll(
                db, sql: "SELECT order_id FROM orders WHERE customer_number = ? ORDER BY order_id", arguments: [change.customerNumber])
            let current = try Self.customerRecipients(db, customerNumber: change.customerNumber)
            _ = try Self.decide(db, orderIds: orderIds, events: events) { facts in
                RecipientCorrection.apply(change, current: current, orders: orderIds.compactMap { facts[$0] }, at: receivedAt,
                                          messageID: messageID)
            }
            return .accepted
        }
    }
}
