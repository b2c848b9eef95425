import FlexpostCore
import Foundation
import PostgresNIO

/// The statements on the per-event and per-message paths, prepared once per
/// connection (postgres-nio keeps them): PostgreSQL then neither parses nor
/// plans them again for every event, which the server log showed as half of
/// an intake's time there. Every parameter is cast, so that its type does not
/// depend on inference. Rows of one kind travel as arrays (no NULL inside:
/// absent times are NaN, absent reply codes -1, turned back into NULL here).
enum PostgresStatements {
    /// The event's key, and the customer's portal state as stored: one round trip.
    /// Row: (the event is new, the customer is known active).
    struct EventInsertion: PostgresPreparedStatement {
        static let sql = """
            WITH inserted AS (
                INSERT INTO events (type, natural_key, fingerprint_key, fingerprint, received_at)
                VALUES ($1::TEXT, $2::TEXT, $3::TEXT, $4::BYTEA, $5::DOUBLE PRECISION)
                ON CONFLICT (type, natural_key) DO NOTHING RETURNING id)
            SELECT EXISTS (SELECT 1 FROM inserted),
                COALESCE((SELECT portal_active FROM customers WHERE customer_number = $6::TEXT), FALSE)
            """
        typealias Row = (Bool, Bool)

        let type: String, key: String, fingerprintKey: String, fingerprint: [UInt8], receivedAt: Double
        let customerNumber: String

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 6)
            bindings.append(type)
            bindings.append(key)
            bindings.append(fingerprintKey)
            bindings.append(ByteBuffer(bytes: fingerprint))
            bindings.append(receivedAt)
            bindings.append(customerNumber)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The rows of an order after its `stored` row: the customer's active mark
    /// when the order says so, the sealed secrets, the deliveries (ids in plan
    /// order) and the history line. Parameters $1-$18 as in ``OrderInsertion``,
    /// and the order's place in the search backlog (``SearchIndex``).
    static let orderRows = """
        active AS (
            INSERT INTO customers (customer_number, portal_active, activated_at)
            SELECT $2::TEXT, TRUE, $5::DOUBLE PRECISION FROM stored WHERE $6::BOOLEAN
            ON CONFLICT (customer_number) DO UPDATE SET portal_active = TRUE,
                activated_at = COALESCE(customers.activated_at, excluded.activated_at)),
        sealed AS (
            INSERT INTO secrets (order_id, purpose, key_id, ciphertext)
            SELECT order_id, purpose, key_id, ciphertext
            FROM stored, unnest($7::TEXT[], $8::TEXT[], $9::BYTEA[]) AS s(purpose, key_id, ciphertext)),
        planned AS (
            INSERT INTO deliveries (order_id, kind, recipient_name, recipient_email, language, state,
                held_from, due_at, first_due_at, message_id, created_at)
            SELECT order_id, kind, name, email, language,
                \(HoldScope.sqlArrivalState(kind: "p.kind", orderId: "stored.order_id")),
                \(HoldScope.sqlArrivalHeldFrom(kind: "p.kind", orderId: "stored.order_id")),
                due_at, due_at, message_id, $5::DOUBLE PRECISION
            FROM stored, unnest($10::TEXT[], $11::TEXT[], $12::TEXT[], $13::TEXT[], $14::DOUBLE PRECISION[], $15::TEXT[])
                WITH ORDINALITY AS p(kind, name, email, language, due_at, message_id, position)
            ORDER BY position),
        noted AS (
            INSERT INTO history (order_id, at, actor, action, detail)
            SELECT order_id, $5::DOUBLE PRECISION, $17::TEXT, $18::TEXT, $16::TEXT FROM stored),
        found AS (
            INSERT INTO search_backlog (order_id) SELECT order_id FROM stored)
        """

    /// What an order's rows are made of, bound as $1-$18.
    struct OrderRows: Sendable {
        let order: OrderConfirmation
        let customerNumber: String
        let document: Data
        let receivedAt: Double
        let secrets: [SealedSecret]
        let deliveries: [PlannedDelivery]
        let history: HistoryEntry

        func bind(into bindings: inout PostgresBindings) {
            bindings.append(order.orderId)
            bindings.append(customerNumber)
            bindings.append(ByteBuffer(bytes: document))
            bindings.append(order.confirmedAt.timeIntervalSince1970)
            bindings.append(receivedAt)
            bindings.append(order.portal.accountStatus == .active)
            bindings.append(secrets.map(\.purpose))
            bindings.append(secrets.map(\.keyId))
            bindings.append(secrets.map { ByteBuffer(bytes: $0.ciphertext) })
            bindings.append(deliveries.map(\.kind.rawValue))
            bindings.append(deliveries.map(\.recipient.name))
            bindings.append(deliveries.map(\.recipient.email.value))
            bindings.append(deliveries.map(\.language.rawValue))
            bindings.append(deliveries.map(\.dueAt.timeIntervalSince1970))
            bindings.append(deliveries.map(\.messageID))
            bindings.append(history.detail)
            bindings.append(history.actor)
            bindings.append(history.action.rawValue)
        }
    }

    /// Every row of a new order whose event is already inserted (inside the
    /// intake transaction). Row: whether a cancellation for this order arrived before it.
    struct OrderInsertion: PostgresPreparedStatement {
        static let sql = """
            WITH stored AS (
                INSERT INTO orders (order_id, customer_number, document, confirmed_at, received_at)
                VALUES ($1::TEXT, $2::TEXT, $3::BYTEA, $4::DOUBLE PRECISION, $5::DOUBLE PRECISION)
                RETURNING order_id),
            """ + orderRows + """

            SELECT EXISTS (SELECT 1 FROM events WHERE type = \(EventType.orderCancelled.sqlLiteral) AND natural_key = $1::TEXT)
            """
        typealias Row = Bool

        let rows: OrderRows

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 18)
            rows.bind(into: &bindings)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// The common case in one statement, without a transaction around it: the
    /// event and every row of its order, planned on the assumption that the
    /// customer is not known active unless the order says so. It starts by
    /// creating the order's guard row: if a cancellation (or an earlier event
    /// for the order) made it first, nothing else happens, after waiting for
    /// that transaction to end. The event is inserted only when the guard is
    /// new, the assumption holds and no cancellation came first; every other
    /// row hangs on the event row. Row: whether it was stored — if not,
    /// nothing was (the guard at most), and the caller takes the transactional
    /// path (duplicates, conflicts, a customer already active, a cancellation
    /// first or at the same moment).
    struct OrderIntake: PostgresPreparedStatement {
        static let sql = """
            WITH guard AS (
                INSERT INTO order_guards (order_id) VALUES ($1::TEXT) ON CONFLICT DO NOTHING RETURNING order_id),
            event AS (
                INSERT INTO events (type, natural_key, fingerprint_key, fingerprint, received_at)
                SELECT $19::TEXT, $20::TEXT, $21::TEXT, $22::BYTEA, $5::DOUBLE PRECISION FROM guard
                WHERE ($6::BOOLEAN OR NOT EXISTS (
                        SELECT 1 FROM customers WHERE customer_number = $2::TEXT AND portal_active))
                    AND NOT EXISTS (SELECT 1 FROM events WHERE type = \(EventType.orderCancelled.sqlLiteral) AND natural_key = $1::TEXT)
                ON CONFLICT (type, natural_key) DO NOTHING RETURNING id),
            stored AS (
                INSERT INTO orders (order_id, customer_number, document, confirmed_at, received_at)
                SELECT $1::TEXT, $2::TEXT, $3::BYTEA, $4::DOUBLE PRECISION, $5::DOUBLE PRECISION FROM event
                RETURNING order_id),
            """ + orderRows + """

            SELECT EXISTS (SELECT 1 FROM event)
            """
        typealias Row = Bool

        let rows: OrderRows
        let type: String, key: String, fingerprintKey: String, fingerprint: [UInt8]

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 22)
            rows.bind(into: &bindings)
            bindings.append(type)
            bindings.append(key)
            bindings.append(fingerprintKey)
            bindings.append(ByteBuffer(bytes: fingerprint))
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A batch of due deliveries claimed for `owner` (see ``PostgresQueueStore/claimDue(at:limit:lease:)``).
    struct Claim: PostgresPreparedStatement {
        static let sql = """
            WITH scheduled AS (
                SELECT id, due_at FROM deliveries WHERE state = \(DeliveryState.scheduled.sqlLiteral) AND due_at <= $1::DOUBLE PRECISION
                ORDER BY due_at, id LIMIT $2::BIGINT FOR UPDATE SKIP LOCKED),
            retrying AS (
                SELECT id, due_at FROM deliveries WHERE state = \(DeliveryState.retrying.sqlLiteral) AND due_at <= $1::DOUBLE PRECISION
                ORDER BY due_at, id LIMIT $2::BIGINT FOR UPDATE SKIP LOCKED),
            expired AS (
                SELECT id, due_at FROM deliveries WHERE state = \(DeliveryState.sending.sqlLiteral) AND lease_expires_at <= $1::DOUBLE PRECISION
                    AND NOT \(PostgresQueueStore.covered)
                ORDER BY due_at, id LIMIT $2::BIGINT FOR UPDATE SKIP LOCKED),
            chosen AS (
                SELECT id FROM (SELECT * FROM scheduled UNION ALL SELECT * FROM retrying UNION ALL SELECT * FROM expired) c
                ORDER BY due_at, id LIMIT $2::BIGINT)
            UPDATE deliveries
            SET state = \(DeliveryState.sending.sqlLiteral), lease_owner = $3::TEXT, lease_expires_at = $4::DOUBLE PRECISION, attempts = attempts + 1
            WHERE id IN (SELECT id FROM chosen)
            RETURNING
            """ + " " + PostgresQueueStore.deliveryColumns
        typealias Row = PostgresQueueStore.DeliveryRow

        let now: Double, limit: Int64, owner: String, leaseExpiresAt: Double

        func makeBindings() throws -> PostgresBindings {
            var bindings = PostgresBindings(capacity: 4)
            bindings.append(now)
            bindings.append(limit)
            bindings.append(owner)
            bindings.append(leaseExpiresAt)
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }

    /// A group of attempt results: the attempts are inserted, and each delivery
    /// still claimed by `owner` takes its new state. A statement is atomic by
    /// itself. Row: the id of each delivery whose claim was still held.
    struct AttemptCompletion: PostgresPreparedStatement {
        static let sql = """
            WITH result AS (
                SELECT * FROM unnest($1::BIGINT[], $2::DOUBLE PRECISION[], $3::DOUBLE PRECISION[], $4::TEXT[],
                                     $5::BIGINT[], $6::TEXT[], $7::DOUBLE PRECISION[], $8::DOUBLE PRECISION[],
                                     $9::DOUBLE PRECISION[])
                    AS r(delivery_id, started_at, finished_at, outcome, reply_code, reply, retry_at, sent_at, final_at)),
            recorded AS (
                INSERT INTO attempts (delivery_id, started_at, finished_at, outcome, reply_code, reply)
                SELECT delivery_id, started_at, finished_at, outcome, NULLIF(reply_code, -1), reply FROM result),
            updated AS (
                UPDATE deliveries d
                SET state = r.outcome, due_at = COALESCE(NULLIF(r.retry_at, 'NaN'), d.due_at),
                    sent_at = NULLIF(r.sent_at, 'NaN'), last_code = NULLIF(r.reply_code, -1), last_reply = r.reply,
                    lease_owner = NULL, lease_expires_at = NULL, finished_at = NULLIF(r.final_at, 'NaN')
                FROM result r
                WHERE d.id = r.delivery_id AND d.state = \(DeliveryState.sending.sqlLiteral) AND d.lease_owner = $10::TEXT
                RETURNING d.id),
            -- SPEC §6: the delivery events of the attempts whose claim held (none when events are off).
            events AS (
                INSERT INTO delivery_events (webhook_id, delivery_id, type, at, detail, state, attempts, next_at)
                SELECT e.webhook_id, e.delivery_id, e.type, e.at, NULLIF(e.detail, ''), \(DeliveryEventState.pending.sqlLiteral), 0, e.at
                FROM unnest($11::TEXT[], $12::BIGINT[], $13::TEXT[], $14::DOUBLE PRECISION[], $15::TEXT[])
                    AS e(webhook_id, delivery_id, type, at, detail)
                WHERE e.delivery_id IN (SELECT id FROM updated)
                ON CONFLICT DO NOTHING)
            SELECT id FROM updated
            """
        typealias Row = Int64

        let attempts: [CompletedAttempt]
        let owner: String
        /// The events the attempts make (``DeliveryEvents/event(for:)``); empty when events are off.
        let events: [DeliveryEventRecord]

        func makeBindings() throws -> PostgresBindings {
            let records = attempts.map(\.attempt)
            var bindings = PostgresBindings(capacity: 15)
            bindings.append(attempts.map(\.deliveryId))
            bindings.append(records.map(\.startedAt.timeIntervalSince1970))
            bindings.append(records.map(\.finishedAt.timeIntervalSince1970))
            bindings.append(records.map(\.nextState.rawValue))
            bindings.append(records.map { Int64($0.replyCode ?? -1) })
            bindings.append(records.map(\.reply))
            bindings.append(records.map { $0.retryAt?.timeIntervalSince1970 ?? .nan })
            bindings.append(records.map { $0.nextState == .sent ? $0.finishedAt.timeIntervalSince1970 : .nan })
            bindings.append(records.map { $0.nextState.isFinal ? $0.finishedAt.timeIntervalSince1970 : .nan })
            bindings.append(owner)
            bindings.append(events.map(\.webhookId))
            bindings.append(events.map(\.deliveryId))
            bindings.append(events.map(\.type.rawValue))
            bindings.append(events.map(\.at.timeIntervalSince1970))
            bindings.append(events.map { $0.detail ?? "" })
            return bindings
        }

        func decodeRow(_ row: PostgresRow) throws -> Row { try row.decode(Row.self) }
    }
}
