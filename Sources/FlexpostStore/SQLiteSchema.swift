import GRDB

/// Versioned migrations of the SQLite queue. Applied at start by every
/// process; GRDB records applied versions, and the write lock serialises
/// processes that start together.
enum SQLiteSchema {
    static var migrator: DatabaseMigrator {
        var migrator = DatabaseMigrator()
        migrator.registerMigration("v1") { db in
            try db.execute(sql: """
                CREATE TABLE events (
                    id INTEGER PRIMARY KEY,
                    type TEXT NOT NULL,
                    natural_key TEXT NOT NULL,
                    fingerprint_key TEXT NOT NULL,
                    fingerprint BLOB NOT NULL,
                    received_at REAL NOT NULL,
                    UNIQUE (type, natural_key)
                );
                CREATE TABLE customers (
                    customer_number TEXT PRIMARY KEY,
                    portal_active INTEGER NOT NULL DEFAULT 0,
                    activated_at REAL
                );
                CREATE TABLE orders (
                    order_id TEXT PRIMARY KEY,
                    customer_number TEXT NOT NULL,
                    document BLOB NOT NULL,
                    confirmed_at REAL NOT NULL,
                    received_at REAL NOT NULL,
                    cancelled_at REAL,
                    secrets_purged_at REAL
                );
                CREATE TABLE secrets (
                    order_id TEXT NOT NULL REFERENCES orders(order_id),
                    purpose TEXT NOT NULL,
                    key_id TEXT NOT NULL,
                    ciphertext BLOB NOT NULL,
                    PRIMARY KEY (order_id, purpose)
                );
                CREATE TABLE deliveries (
                    id INTEGER PRIMARY KEY,
                    order_id TEXT NOT NULL REFERENCES orders(order_id),
                    kind TEXT NOT NULL,
                    recipient_name TEXT NOT NULL,
                    recipient_email TEXT NOT NULL,
                    language TEXT NOT NULL,
                    state TEXT NOT NULL,
                    due_at REAL NOT NULL,
                    first_due_at REAL NOT NULL,
                    message_id TEXT NOT NULL UNIQUE,
                    attempts INTEGER NOT NULL DEFAULT 0,
                    lease_owner TEXT,
                    lease_expires_at REAL,
                    created_at REAL NOT NULL,
                    sent_at REAL,
                    last_code INTEGER,
                    last_reply TEXT
                );
                CREATE INDEX deliveries_waiting ON deliveries (state, due_at);
                CREATE INDEX deliveries_order ON deliveries (order_id);
                CREATE TABLE attempts (
                    id INTEGER PRIMARY KEY,
                    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
                    started_at REAL NOT NULL,
                    finished_at REAL NOT NULL,
                    outcome TEXT NOT NULL,
                    reply_code INTEGER,
                    reply TEXT NOT NULL
                );
                CREATE INDEX attempts_delivery ON attempts (delivery_id);
                CREATE TABLE history (
                    id INTEGER PRIMARY KEY,
                    order_id TEXT NOT NULL,
                    at REAL NOT NULL,
                    actor TEXT NOT NULL,
                    action TEXT NOT NULL,
                    detail TEXT NOT NULL
                );
                CREATE INDEX history_order ON history (order_id);
                """)
        }
        migrator.registerMigration("v2-finished-at") { db in
            // When a delivery reached a final state: retention (R8) counts from it.
            try db.execute(sql: """
                ALTER TABLE deliveries ADD COLUMN finished_at REAL;
                ALTER TABLE deliveries ADD COLUMN resend_of_kind TEXT;
                UPDATE deliveries SET finished_at = sent_at WHERE state = 'sent';
                CREATE INDEX history_resend ON history (order_id, action, at);
                """)
        }
        migrator.registerMigration("v3-history-index") { db in
            // history_resend (order_id, action, at) serves every lookup by order
            // too; the second index only cost a page write per history row.
            try db.execute(sql: "DROP INDEX IF EXISTS history_order")
        }
        migrator.registerMigration("v4-index-names") { db in
            // The index of v2 under the name it has on PostgreSQL: both stores
            // share one schema vocabulary (tables, columns, index names).
            try db.execute(sql: """
                CREATE INDEX history_order ON history (order_id, action, at);
                DROP INDEX history_resend;
                """)
        }
        migrator.registerMigration("v5-queue-keys") { db in
            // Keys of the queue itself, sealed under the encryption keys: the
            // fingerprint key (FingerprintKey).
            try db.execute(sql: """
                CREATE TABLE queue_keys (
                    name TEXT PRIMARY KEY,
                    key_id TEXT NOT NULL,
                    ciphertext BLOB NOT NULL
                );
                """)
        }
        migrator.registerMigration("v6-holds") { db in
            // SPEC §8: operators' holds, and the state a held delivery goes back to.
            try db.execute(sql: """
                CREATE TABLE holds (
                    id INTEGER PRIMARY KEY,
                    kind TEXT,
                    order_id TEXT,
                    actor TEXT NOT NULL,
                    reason TEXT NOT NULL,
                    since REAL NOT NULL
                );
                ALTER TABLE deliveries ADD COLUMN held_from TEXT;
                """)
        }
        migrator.registerMigration("v7-personal-data") { db in
            // SPEC §8: when an order's personal data was erased (its document is then empty).
            try db.execute(sql: """
                ALTER TABLE orders ADD COLUMN personal_data_erased_at REAL;
                CREATE INDEX orders_customer ON orders (customer_number);
                """)
        }
        migrator.registerMigration("v8-sessions") { db in
            // SPEC §7: the console's sessions, by a hash of their id.
            try db.execute(sql: """
                CREATE TABLE sessions (
                    id_hash TEXT PRIMARY KEY,
                    subject TEXT NOT NULL,
                    created_at REAL NOT NULL,
                    last_seen_at REAL NOT NULL
                );
                """)
        }
        migrator.registerMigration("v9-bounces") { db in
            // SPEC §6: the bounces taken in (the same one twice is recorded once),
            // and deliveries found by the Message-ID a bounce returns.
            try db.execute(sql: """
                CREATE TABLE bounces (
                    key TEXT PRIMARY KEY,
                    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
                    received_at REAL NOT NULL,
                    class TEXT NOT NULL,
                    status TEXT,
                    diagnostic TEXT
                );
                CREATE INDEX bounces_delivery ON bounces (delivery_id);
                CREATE INDEX deliveries_message_id ON deliveries (message_id);
                """)
        }
        migrator.registerMigration("v10-recipients") { db in
            // SPEC §6: a customer's recipients as the order system last corrected them.
            try db.execute(sql: """
                ALTER TABLE customers ADD COLUMN contact_name TEXT;
                ALTER TABLE customers ADD COLUMN contact_email TEXT;
                ALTER TABLE customers ADD COLUMN contact_changed_at REAL;
                ALTER TABLE customers ADD COLUMN administrators TEXT;
                ALTER TABLE customers ADD COLUMN administrators_changed_at REAL;
                """)
        }
        migrator.registerMigration("v11-search") { db in
            // SPEC §7: each order's search terms (OrderSearch), for the one search field.
            try db.execute(sql: """
                CREATE TABLE search_terms (
                    term TEXT NOT NULL,
                    order_id TEXT NOT NULL,
                    PRIMARY KEY (term, order_id)
                );
                CREATE INDEX search_terms_order ON search_terms (order_id);
                CREATE INDEX orders_received ON orders (received_at);
                CREATE INDEX deliveries_finished ON deliveries (state, finished_at);
                """)
        }
        migrator.registerMigration("v12-delivery-events") { db in
            // SPEC §6: delivery events for the order system, written with the state
            // change, deleted once taken; `next_at` is the next post (or a claim's lease).
            try db.execute(sql: """
                CREATE TABLE delivery_events (
                    webhook_id TEXT PRIMARY KEY,
                    delivery_id INTEGER NOT NULL REFERENCES deliveries(id),
                    type TEXT NOT NULL,
                    at REAL NOT NULL,
                    detail TEXT,
                    state TEXT NOT NULL,
                    attempts INTEGER NOT NULL,
                    next_at REAL NOT NULL,
                    last_error TEXT
                );
                CREATE INDEX delivery_events_due ON delivery_events (state, next_at);
                """)
        }
        migrator.registerMigration("v13-search-backlog") { db in
            // SPEC §7: orders whose search terms are not written yet (``SearchIndex``);
            // without a rowid, a new order adds one B-tree entry here, not two.
            try db.execute(sql: "CREATE TABLE search_backlog (order_id TEXT PRIMARY KEY) WITHOUT ROWID")
        }
        migrator.registerMigration("v14-intake-indexes") { db in
            // Each index a new order or delivery enters is a page more in every
            // intake commit. deliveries_finished: mail that ended only (the overview,
            // the dead and bounced lists). deliveries_message_id: `message_id` is
            // UNIQUE, its own index answers. orders_received: no query used it (the
            // retention scan pages by order id).
            try db.execute(sql: """
                DROP INDEX deliveries_finished;
                CREATE INDEX deliveries_finished ON deliveries (state, finished_at) WHERE finished_at IS NOT NULL;
                DROP INDEX deliveries_message_id;
                DROP INDEX orders_received;
                """)
        }
        migrator.registerMigration("v15-delivery-event-retries") { db in
            // An event given up and posted again by an operator: its new retry
            // lifetime counts from then (``DeliveryEvents/nextTry``).
            try db.execute(sql: "ALTER TABLE delivery_events ADD COLUMN retried_at REAL")
        }
        return migrator
    }
}
