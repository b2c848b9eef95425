import Logging
import PostgresNIO

/// Versioned migrations of the PostgreSQL queue, applied at start (and by
/// `flexpost migrate`) inside one transaction holding an advisory lock, so
/// that processes starting together apply each version exactly once.
enum PostgresSchema {
    static let lockKey: Int64 = 0x666C_6578_706F_7374  // "flexpost"

    static let migrations: [(version: Int, statements: [String])] = [
        (1, [
            """
            CREATE TABLE events (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                type TEXT NOT NULL,
                natural_key TEXT NOT NULL,
                fingerprint_key TEXT NOT NULL,
                fingerprint BYTEA NOT NULL,
                received_at DOUBLE PRECISION NOT NULL,
                UNIQUE (type, natural_key))
            """,
            """
            CREATE TABLE customers (
                customer_number TEXT PRIMARY KEY,
                portal_active BOOLEAN NOT NULL DEFAULT FALSE,
                activated_at DOUBLE PRECISION)
            """,
            """
            CREATE TABLE orders (
                order_id TEXT PRIMARY KEY,
                customer_number TEXT NOT NULL,
                document BYTEA NOT NULL,
                confirmed_at DOUBLE PRECISION NOT NULL,
                received_at DOUBLE PRECISION NOT NULL,
                cancelled_at DOUBLE PRECISION,
                secrets_purged_at DOUBLE PRECISION)
            """,
            """
            CREATE TABLE secrets (
                order_id TEXT NOT NULL REFERENCES orders(order_id),
                purpose TEXT NOT NULL,
                key_id TEXT NOT NULL,
                ciphertext BYTEA NOT NULL,
                PRIMARY KEY (order_id, purpose))
            """,
            """
            CREATE TABLE deliveries (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                order_id TEXT NOT NULL REFERENCES orders(order_id),
                kind TEXT NOT NULL,
                recipient_name TEXT NOT NULL,
                recipient_email TEXT NOT NULL,
                language TEXT NOT NULL,
                state TEXT NOT NULL,
                due_at DOUBLE PRECISION NOT NULL,
                first_due_at DOUBLE PRECISION NOT NULL,
                message_id TEXT NOT NULL UNIQUE,
                attempts BIGINT NOT NULL DEFAULT 0,
                lease_owner TEXT,
                lease_expires_at DOUBLE PRECISION,
                created_at DOUBLE PRECISION NOT NULL,
                sent_at DOUBLE PRECISION,
                last_code BIGINT,
                last_reply TEXT,
                finished_at DOUBLE PRECISION,
                resend_of_kind TEXT)
            """,
            "CREATE INDEX deliveries_waiting ON deliveries (state, due_at)",
            "CREATE INDEX deliveries_order ON deliveries (order_id)",
            """
            CREATE TABLE attempts (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                delivery_id BIGINT NOT NULL REFERENCES deliveries(id),
                started_at DOUBLE PRECISION NOT NULL,
                finished_at DOUBLE PRECISION NOT NULL,
                outcome TEXT NOT NULL,
                reply_code BIGINT,
                reply TEXT NOT NULL)
            """,
            "CREATE INDEX attempts_delivery ON attempts (delivery_id)",
            """
            CREATE TABLE history (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                order_id TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL,
                actor TEXT NOT NULL,
                action TEXT NOT NULL,
                detail TEXT NOT NULL)
            """,
            "CREATE INDEX history_order ON history (order_id, action, at)",
        ]),
        // One row per order id that a confirmation or a cancellation has touched.
        // Both insert it first: a unique-key insert waits for a concurrent one
        // and then sees the committed row, which serialises a confirmation and
        // a cancellation of the same order arriving together at two workers
        // (each alone could miss the other: READ COMMITTED, no row to lock yet).
        (2, [
            "CREATE TABLE order_guards (order_id TEXT PRIMARY KEY)",
        ]),
        // Keys of the queue itself, sealed under the encryption keys: the fingerprint key.
        (3, [
            "CREATE TABLE queue_keys (name TEXT PRIMARY KEY, key_id TEXT NOT NULL, ciphertext BYTEA NOT NULL)",
        ]),
        // SPEC §8: operators' holds, and the state a held delivery goes back to.
        (4, [
            """
            CREATE TABLE holds (
                id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
                kind TEXT,
                order_id TEXT,
                actor TEXT NOT NULL,
                reason TEXT NOT NULL,
                since DOUBLE PRECISION NOT NULL)
            """,
            "ALTER TABLE deliveries ADD COLUMN held_from TEXT",
        ]),
        // SPEC §8: when an order's personal data was erased (its document is then empty).
        (5, [
            "ALTER TABLE orders ADD COLUMN personal_data_erased_at DOUBLE PRECISION",
            "CREATE INDEX orders_customer ON orders (customer_number)",
        ]),
        // SPEC §7: the console's sessions, by a hash of their id.
        (6, [
            """
            CREATE TABLE sessions (
                id_hash TEXT PRIMARY KEY,
                subject TEXT NOT NULL,
                created_at DOUBLE PRECISION NOT NULL,
                last_seen_at DOUBLE PRECISION NOT NULL)
            """,
        ]),
        // SPEC §6: the bounces taken in (the same one twice is recorded once),
        // and deliveries found by the Message-ID a bounce returns.
        (7, [
            """
            CREATE TABLE bounces (
                key TEXT PRIMARY KEY,
                delivery_id BIGINT NOT NULL REFERENCES deliveries(id),
                received_at DOUBLE PRECISION NOT NULL,
                class TEXT NOT NULL,
                status TEXT,
                diagnostic TEXT)
            """,
            "CREATE INDEX bounces_delivery ON bounces (delivery_id)",
            "CREATE INDEX deliveries_message_id ON deliveries (message_id)",
        ]),
        // SPEC §6: a customer's recipients as the order system last corrected them.
        (8, [
            "ALTER TABLE customers ADD COLUMN contact_name TEXT",
            "ALTER TABLE customers ADD COLUMN contact_email TEXT",
            "ALTER TABLE customers ADD COLUMN contact_changed_at DOUBLE PRECISION",
            "ALTER TABLE customers ADD COLUMN administrators TEXT",
            "ALTER TABLE customers ADD COLUMN administrators_changed_at DOUBLE PRECISION",
        ]),
        // SPEC §7: each order's search terms (OrderSearch), for the one search field.
        (9, [
            "CREATE TABLE search_terms (term TEXT NOT NULL, order_id TEXT NOT NULL, PRIMARY KEY (term, order_id))",
            "CREATE INDEX search_terms_order ON search_terms (order_id)",
            "CREATE INDEX orders_received ON orders (received_at)",
            "CREATE INDEX deliveries_finished ON deliveries (state, finished_at)",
        ]),
        // SPEC §6: delivery events for the order system, written with the state
        // change, deleted once taken; `next_at` is the next post (or a claim's lease).
        (10, [
            """
            CREATE TABLE delivery_events (
                webhook_id TEXT PRIMARY KEY,
                delivery_id BIGINT NOT NULL REFERENCES deliveries(id),
                type TEXT NOT NULL,
                at DOUBLE PRECISION NOT NULL,
                detail TEXT,
                state TEXT NOT NULL,
                attempts INTEGER NOT NULL,
                next_at DOUBLE PRECISION NOT NULL,
                last_error TEXT
            )
            """,
            "CREATE INDEX delivery_events_due ON delivery_events (state, next_at)",
        ]),
        // SPEC §7: orders whose search terms are not written yet (``SearchIndex``).
        (11, ["CREATE TABLE search_backlog (order_id TEXT PRIMARY KEY)"]),
        // Fewer index entries per new order and delivery (SQLite's v14 says why).
        (12, [
            "DROP INDEX deliveries_finished",
            "CREATE INDEX deliveries_finished ON deliveries (state, finished_at) WHERE finished_at IS NOT NULL",
            "DROP INDEX deliveries_message_id",
            "DROP INDEX orders_received",
        ]),
        // An event given up and posted again: its new retry lifetime counts from then.
        (13, ["ALTER TABLE delivery_events ADD COLUMN retried_at DOUBLE PRECISION"]),
    ]

    /// Applies what is missing; returns the versions applied now.
    static func migrate(_ client: PostgresClient, logger: Logger) async throws -> [Int] {
        try await client.withTransaction(logger: logger) { connection in
            try await connection.query("SELECT pg_advisory_xact_lock(\(lockKey))", logger: logger).consume()
            try await connection.query(
                "CREATE TABLE IF NOT EXISTS flexpost_migrations (version BIGINT PRIMARY KEY, applied_at TIMESTAMPTZ NOT NULL DEFAULT now())",
                logger: logger
            ).consume()
            var applied = Set<Int>()
            for try await version in try await connection.query("SELECT version FROM flexpost_migrations", logger: logger)
                .decode(Int.self)
            {
                applied.insert(version)
            }
            var now: [Int] = []
            for migration in migrations where !applied.contains(migration.version) {
                for statement in migration.statements {
                    try await connection.query(PostgresQuery(unsafeSQL: statement), logger: logger).consume()
                }
                try await connection.query(
                    "INSERT INTO flexpost_migrations (version) VALUES (\(migration.version))", logger: logger
                ).consume()
                now.append(migration.version)
            }
            return now
        }
    }
}

extension PostgresRowSequence {
    /// Reads every row, so that a server error is not silently dropped.
    func consume() async throws {
        for try await _ in self {}
    }
}
