import FlexpostCore
import Foundation
import PostgresNIO

/// The rules' decisions on PostgreSQL: the facts read with the orders' rows
/// locked (in id order, so that two decisions never wait on each other in a
/// circle) and the changes written in the same transaction.
extension PostgresQueueStore {
    public func decide<Outcome: Sendable>(
        orderIds: [String], _ decide: @escaping @Sendable ([String: OrderFacts]) -> Decision<Outcome>
    ) async throws -> Recorded<Outcome> {
        try await transaction { connection in try await self.decide(connection, orderIds: orderIds, decide) }
    }

    func decide<Outcome: Sendable>(
        _ connection: PostgresConnection, orderIds: [String], _ decide: ([String: OrderFacts]) -> Decision<Outcome>
    ) async throws -> Recorded<Outcome> {
        let decision = decide(try await orderFacts(connection, orderIds))
        let changes = deliveryEvents ? DeliveryEvents.adding(to: decision.changes) : decision.changes
        return Recorded(outcome: decision.outcome, scheduled: try await record(connection, changes))
    }

    func orderFacts(_ connection: PostgresConnection, _ orderIds: [String]) async throws -> [String: OrderFacts] {
        var facts: [String: OrderFacts] = [:]
        for try await (orderId, customer, cancelledAt, purgedAt, holdsSecrets, receivedAt, erasedAt) in try await connection.query(
            """
            SELECT o.order_id, o.customer_number, o.cancelled_at, o.secrets_purged_at,
                EXISTS (SELECT 1 FROM secrets s WHERE s.order_id = o.order_id), o.received_at, o.personal_data_erased_at
            FROM orders o WHERE o.order_id = ANY(\(orderIds)) ORDER BY o.order_id FOR UPDATE OF o
            """, logger: logger
        ).decode((String, String, Double?, Double?, Bool, Double, Double?).self) {
            facts[orderId] = OrderFacts(
                orderId: orderId, customerNumber: customer, cancelledAt: cancelledAt.map(Date.init(timeIntervalSince1970:)),
                secretsPurgedAt: purgedAt.map(Date.init(timeIntervalSince1970:)), holdsSecrets: holdsSecrets,
                deliveries: [], resendTimes: [], receivedAt: Date(timeIntervalSince1970: receivedAt),
                personalDataErasedAt: erasedAt.map(Date.init(timeIntervalSince1970:)))
        }
        guard !facts.isEmpty else { return facts }
        let known = Array(facts.keys)
        for delivery in try await deliveries(try await connection.query(
            "SELECT \(unescaped: Self.deliveryColumns) FROM deliveries WHERE order_id = ANY(\(known)) ORDER BY id",
            logger: logger))
        {
            facts[delivery.orderId]?.deliveries.append(delivery)
        }
        for try await (orderId, at) in try await connection.query(
            "SELECT order_id, at FROM history WHERE order_id = ANY(\(known)) AND action = \(HistoryAction.resend.rawValue)",
            logger: logger
        ).decode((String, Double).self) {
            facts[orderId]?.resendTimes.append(Date(timeIntervalSince1970: at))
        }
        var recipients: [String: CustomerRecipients] = [:]
        for customer in Set(facts.values.map(\.customerNumber)) {
            recipients[customer] = try await customerRecipients(connection, customerNumber: customer, lock: false)
        }
        for orderId in facts.keys {
            if let customer = facts[orderId]?.customerNumber { facts[orderId]?.recipients = recipients[customer] ?? .none }
        }
        for try await (orderId, key) in try await connection.query(
            "SELECT d.order_id, b.key FROM bounces b JOIN deliveries d ON d.id = b.delivery_id WHERE d.order_id = ANY(\(known))",
            logger: logger
        ).decode((String, String).self) {
            facts[orderId]?.bounceKeys.insert(key)
        }
        return facts
    }

    /// Persists a decision's changes; returns the deliveries it scheduled.
    func record(_ connection: PostgresConnection, _ changes: [QueueChange]) async throws -> [Delivery] {
        var scheduled: [Delivery] = []
        for change in changes {
            switch change {
            case .finish(let deliveryIds, let state, let at):
                guard !deliveryIds.isEmpty else { continue }
                try await connection.query(
                    """
                    UPDATE deliveries SET state = \(state.rawValue), lease_owner = NULL, lease_expires_at = NULL,
                        finished_at = \(at.timeIntervalSince1970), held_from = NULL
                    WHERE id = ANY(\(deliveryIds))
                    """, logger: logger
                ).consume()
            case .destroySecrets(let orderId, let at):
                try await connection.query("DELETE FROM secrets WHERE order_id = \(orderId)", logger: logger).consume()
                try await connection.query(
                    """
                    UPDATE orders SET secrets_purged_at = COALESCE(secrets_purged_at, \(at.timeIntervalSince1970))
                    WHERE order_id = \(orderId)
                    """, logger: logger
                ).consume()
            case .markCancelled(let orderId, let at):
                try await connection.query(
                    "UPDATE orders SET cancelled_at = \(at.timeIntervalSince1970) WHERE order_id = \(orderId)", logger: logger
                ).consume()
            case .schedule(let orderId, let deliveries, let at):
                for new in deliveries {
                    let planned = new.planned
                    let resendOf: String? = new.isResend ? planned.kind.rawValue : nil
                    scheduled += try await self.deliveries(try await connection.query(
                        """
                        INSERT INTO deliveries (order_id, kind, recipient_name, recipient_email, language, state,
                            held_from, due_at, first_due_at, message_id, created_at, resend_of_kind)
                        SELECT order_id, kind, \(planned.recipient.name), \(planned.recipient.email.value),
                            \(planned.language.rawValue), \(unescaped: Self.arrivalState), \(unescaped: Self.arrivalHeldFrom),
                            \(planned.dueAt.timeIntervalSince1970), \(planned.dueAt.timeIntervalSince1970), \(planned.messageID),
                            \(at.timeIntervalSince1970), \(resendOf)
                        FROM (SELECT \(orderId)::TEXT AS order_id, \(planned.kind.rawValue)::TEXT AS kind) p
                        RETURNING \(unescaped: Self.deliveryColumns)
                        """, logger: logger))
                }
            case .note(let orderId, let entry):
                try await addHistory(connection, orderId: orderId, entry)
            case .readdress(let deliveryIds, let contact):
                try await connection.query(
                    """
                    UPDATE deliveries SET recipient_name = \(contact.name), recipient_email = \(contact.email.value)
                    WHERE id = ANY(\(deliveryIds))
                    """, logger: logger
                ).consume()
            case .setRecipients(let change):
                try await connection.query(
                    """
                    INSERT INTO customers (customer_number, portal_active) VALUES (\(change.customerNumber), FALSE)
                    ON CONFLICT DO NOTHING
                    """, logger: logger
                ).consume()
                switch change.recipients {
                case .contact(let contact):
                    try await connection.query(
                        """
                        UPDATE customers SET contact_name = \(contact.name), contact_email = \(contact.email.value),
                            contact_changed_at = \(change.changedAt.timeIntervalSince1970)
                        WHERE customer_number = \(change.customerNumber)
                        """, logger: logger
                    ).consume()
                case .administrators(let administrators):
                    try await connection.query(
                        """
                        UPDATE customers SET administrators = \(CustomerRecipients.storedText(administrators)),
                            administrators_changed_at = \(change.changedAt.timeIntervalSince1970)
                        WHERE customer_number = \(change.customerNumber)
                        """, logger: logger
                    ).consume()
                }
            case .recordBounce(let key, let deliveryId, let at, let bounceClass, let status, let diagnostic):
                try await connection.query(
                    """
                    INSERT INTO bounces (key, delivery_id, received_at, class, status, diagnostic)
                    VALUES (\(key), \(deliveryId), \(at.timeIntervalSince1970), \(bounceClass.rawValue), \(status), \(diagnostic))
                    ON CONFLICT DO NOTHING
                    """, logger: logger
                ).consume()
            case .emitDeliveryEvent(let event):
                try await insertEvents(connection, [event])
            case .eraseCustomerRecipients(let customerNumber):
                try await connection.query(
                    """
                    UPDATE customers SET contact_name = NULL, contact_email = NULL, administrators = NULL
                    WHERE customer_number = \(customerNumber)
                    """, logger: logger
                ).consume()
            case .addSearchTerms(let orderId, let terms):
                try await addSearchTerms(connection, terms: terms, orderIds: Array(repeating: orderId, count: terms.count))
            case .erasePersonalData(let orderId, let quoted, let blanked, let keptTerms, let at):
                try await connection.query(
                    "DELETE FROM search_terms WHERE order_id = \(orderId) AND NOT (term = ANY(\(keptTerms)))", logger: logger
                ).consume()
                try await connection.query(
                    "UPDATE history SET detail = '[erased]' WHERE order_id = \(orderId) AND action = ANY(\(blanked.map(\.rawValue)))",
                    logger: logger
                ).consume()
                try await connection.query(
                    """
                    UPDATE orders SET document = ''::BYTEA,
                        personal_data_erased_at = COALESCE(personal_data_erased_at, \(at.timeIntervalSince1970))
                    WHERE order_id = \(orderId)
                    """, logger: logger
                ).consume()
                try await connection.query(
                    "UPDATE deliveries SET recipient_name = '', recipient_email = '' WHERE order_id = \(orderId)", logger: logger
                ).consume()
                for text in quoted {
                    try await connection.query(
                        "UPDATE history SET detail = replace(detail, \(text), '[erased]') WHERE order_id = \(orderId)",
                        logger: logger
                    ).consume()
                    try await connection.query(
                        """
                        UPDATE deliveries SET last_reply = replace(last_reply, \(text), '[erased]') WHERE order_id = \(orderId)
                        """, logger: logger
                    ).consume()
                    // What relays and bounce reports said quoting the recipient: the
                    // attempts, the bounces' diagnostics, the delivery events not yet taken.
                    for (table, column) in [("attempts", "reply"), ("bounces", "diagnostic"), ("delivery_events", "detail")] {
                        try await connection.query(
                            """
                            UPDATE \(unescaped: table) SET \(unescaped: column) = replace(\(unescaped: column), \(text), '[erased]')
                            WHERE delivery_id IN (SELECT id FROM deliveries WHERE order_id = \(orderId))
                            """, logger: logger
                        ).consume()
                    }
                }
            }
        }
        return scheduled
    }
}

extension PostgresQueueStore {
    /// SPEC §6: the customer's recipients as last corrected; `lock` holds the
    /// customer's row, so that two corrections of one customer apply in turn.
    func customerRecipients(_ connection: PostgresConnection, customerNumber: String, lock: Bool) async throws
        -> CustomerRecipients
    {
        let rows = try await connection.query(
            """
            SELECT contact_name, contact_email, contact_changed_at, administrators, administrators_changed_at
            FROM customers WHERE customer_number = \(customerNumber) \(unescaped: lock ? "FOR UPDATE" : "")
            """, logger: logger)
        for try await (name, email, contactAt, administrators, administratorsAt) in rows.decode(
            (String?, String?, Double?, String?, Double?).self)
        {
            return CustomerRecipients(
                contact: try email.map { try Contact.stored(name: name ?? "", email: $0) },
                contactChangedAt: contactAt.map(Date.init(timeIntervalSince1970:)),
                administrators: try administrators.map {
                    try CustomerRecipients.administrators(storedText: $0, column: "customers.administrators")
                },
                administratorsChangedAt: administratorsAt.map(Date.init(timeIntervalSince1970:)))
        }
        return .none
    }

    public func recordRecipientChange(_ identity: EventIdentity, _ change: RecipientChange, receivedAt: Date,
                                      messageID: @escaping @Sendable () -> String) async throws -> IntakeOutcome {
        try await self.transaction { connection in
            if let outcome = try await self.checkEvent(connection, identity, at: receivedAt) { return outcome }
            try await connection.query(
                """
                INSERT INTO customers (customer_number, portal_active) VALUES (\(change.customerNumber), FALSE)
                ON CONFLICT DO NOTHING
                """, logger: self.logger
            ).consume()
            let current = try await self.customerRecipients(connection, customerNumber: change.customerNumber, lock: true)
            var orderIds: [String] = []
            for try await orderId in try await connection.query(
                "SELECT order_id FROM orders WHERE customer_number = \(change.customerNumber) ORDER BY order_id",
                logger: self.logger
            ).decode(String.self) {
                orderIds.append(orderId)
            }
            _ = try await self.decide(connection, orderIds: orderIds) { facts in
                RecipientCorrection.apply(change, current: current, orders: orderIds.compactMap { facts[$0] }, at: receivedAt,
                                          messageID: messageID)
            }
            return .accepted
        }
    }
}
