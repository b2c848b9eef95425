import FlexpostCore
import Foundation
import GRDB

/// The queue on one SQLite file (WAL, synchronous=FULL): durable before an
/// intake is acknowledged, shared safely by any number of processes on one
/// machine. GRDB runs every statement on its own serial queues, off Swift's
/// cooperative pool.
public final class SQLiteQueueStore: QueueStore {
    let pool: DatabasePool
    let intake: IntakeCommitter
    /// SPEC §6: every delivery that ends writes a delivery event (`FLEXPOST_EVENTS_URL` is set).
    public let deliveryEvents: Bool

    /// Opens (creating if needed) the database file and applies migrations.
    /// - Parameter deliveryEvents: write a delivery event with every end of a delivery (SPEC §6).
    public init(path: String, deliveryEvents: Bool = false) throws {
        self.deliveryEvents = deliveryEvents
        var configuration = Configuration()
        configuration.busyMode = .timeout(15)
        configuration.prepareDatabase { db in
            try db.execute(sql: "PRAGMA synchronous = FULL")
            try db.execute(sql: "PRAGMA foreign_keys = ON")
            // Deleted rows (purged secrets) are overwritten, not left in free pages.
            try db.execute(sql: "PRAGMA secure_delete = ON")
            // Savepoint and statement journals and sort scratch stay in memory: an
            // intake savepoint touching more than 64 KiB of pages otherwise created,
            // wrote and deleted a file under /var/tmp. Nothing in them has to
            // survive a crash (the WAL holds what was committed).
            try db.execute(sql: "PRAGMA temp_store = MEMORY")
        }
        let directory = (path as NSString).deletingLastPathComponent
        if !directory.isEmpty {
            try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        }
        // Held until the schema is current; other processes starting now wait here.
        let startup = try StartupLock(path: path + ".lock")
        defer { withExtendedLifetime(startup) {} }
        self.pool = try DatabasePool(path: path, configuration: configuration)
        // GRDB switches a pool's writer to synchronous=NORMAL when it enables WAL,
        // after prepareDatabase: a commit would then reach the disk only at the
        // next checkpoint. An acknowledged event must survive a power loss, so
        // every commit syncs the WAL.
        try pool.writeWithoutTransaction { db in try db.execute(sql: "PRAGMA synchronous = FULL") }
        try SQLiteSchema.migrator.migrate(pool)
        self.intake = IntakeCommitter(pool: pool)
    }

    /// Closes the database connections (the last one to close checkpoints the
    /// WAL); the store cannot be used afterwards.
    public func close() async {
        try? pool.close()
    }

    /// The writer connection's `PRAGMA synchronous` (2 = FULL): what an acknowledgement is worth.
    public func writerSynchronousMode() async throws -> Int {
        try await pool.writeWithoutTransaction { db in try Int.fetchOne(db, sql: "PRAGMA synchronous") ?? -1 }
    }

    /// Runs `body` in a `BEGIN IMMEDIATE` transaction: the write lock is taken
    /// up front, so concurrent processes queue on the busy timeout instead of
    /// failing to upgrade a read lock.
    func immediate<T: Sendable>(_ body: @escaping @Sendable (Database) throws -> T) async throws -> T {
        try await pool.writeWithoutTransaction { db in
            var result: T?
            try db.inTransaction(.immediate) {
                result = try body(db)
                return .commit
            }
            return result!
        }
    }

    /// Checks an event against the stored one with the same natural key.
    /// nil: new, and now recorded; otherwise the outcome to answer.
    /// - Parameter fingerprint: the event's fingerprint under the current key,
    ///   computed before the transaction (the writer serialises every write).
    static func checkEvent(_ db: Database, _ identity: EventIdentity, _ fingerprint: EventFingerprint?, at: Date) throws
        -> IntakeOutcome?
    {
        if let row = try Row.fetchOne(
            db.cachedStatement(sql: "SELECT fingerprint_key, fingerprint FROM events WHERE type = ? AND natural_key = ?"),
            arguments: [identity.type.rawValue, identity.key])
        {
            let stored = EventFingerprint(keyId: row["fingerprint_key"], digest: Array(row["fingerprint"] as Data))
            return identity.sameContent(as: stored) ? .duplicate : .conflict
        }
        guard let fingerprint else { return .conflict }
        try db.run(
            sql: "INSERT INTO events (type, natural_key, fingerprint_key, fingerprint, received_at) VALUES (?, ?, ?, ?, ?)",
            arguments: [identity.type.rawValue, identity.key, fingerprint.keyId, Data(fingerprint.digest), at.timeIntervalSince1970])
        return nil
    }

    /// A new delivery's state and `held_from` (parameters ?1 order id, ?2 kind):
    /// `held` when a hold in force covers it (SPEC §8).
    static let arrivalState = HoldScope.sqlArrivalState(kind: "?2", orderId: "?1"),
        arrivalHeldFrom = HoldScope.sqlArrivalHeldFrom(kind: "?2", orderId: "?1")

    static func addHistory(_ db: Database, orderId: String, _ entry: HistoryEntry) throws {
        try db.run(
            sql: "INSERT INTO history (order_id, at, actor, action, detail) VALUES (?, ?, ?, ?, ?)",
            arguments: [orderId, entry.at.timeIntervalSince1970, entry.actor, entry.action.rawValue, entry.detail])
    }

    public func recordOrder(
        _ identity: EventIdentity, customerNumber: String, receivedAt: Date,
        prepare: @escaping @Sendable (Bool) -> PreparedOrder
    ) async throws -> IntakeOutcome {
        let fingerprint = identity.fingerprint(nil), events = deliveryEvents
        return try await intake.submit { db in
            if let outcome = try Self.checkEvent(db, identity, fingerprint, at: receivedAt) { return outcome }
            let knownActive = try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT portal_active FROM customers WHERE customer_number = ?"),
                arguments: [customerNumber]) ?? false
            let prepared = prepare(knownActive)
            let order = prepared.plan.order
            let document = try StoredDocument.encode(order)
            try db.run(
                sql: """
                    INSERT INTO orders (order_id, customer_number, document, confirmed_at, received_at)
                    VALUES (?, ?, ?, ?, ?)
                    """,
                arguments: [order.orderId, customerNumber, document, order.confirmedAt.timeIntervalSince1970,
                            receivedAt.timeIntervalSince1970])
            if order.portal.accountStatus == .active {
                try Self.markActive(db, customerNumber: customerNumber, at: receivedAt)
            }
            for sealed in prepared.sealedSecrets {
                try db.run(
                    sql: "INSERT INTO secrets (order_id, purpose, key_id, ciphertext) VALUES (?, ?, ?, ?)",
                    arguments: [order.orderId, sealed.purpose, sealed.keyId, Data(sealed.ciphertext)])
            }
            for planned in prepared.plan.deliveries {
                try db.run(
                    sql: """
                        INSERT INTO deliveries (order_id, kind, recipient_name, recipient_email, language, state,
                            held_from, due_at, first_due_at, message_id, created_at)
                        VALUES (?1, ?2, ?3, ?4, ?5, \(Self.arrivalState), \(Self.arrivalHeldFrom), ?6, ?6, ?7, ?8)
                        """,
                    arguments: [order.orderId, planned.kind.rawValue, planned.recipient.name,
                                planned.recipient.email.value, planned.language.rawValue,
                                planned.dueAt.timeIntervalSince1970, planned.messageID, receivedAt.timeIntervalSince1970])
            }
            try Self.addHistory(db, orderId: order.orderId, prepared.plan.confirmation(at: receivedAt))
            try db.run(sql: "INSERT INTO search_backlog (order_id) VALUES (?)", arguments: [order.orderId])
            // An order whose cancellation arrived first is stored cancelled at once.
            if try Bool.fetchOne(
                db.cachedStatement(sql: "SELECT 1 FROM events WHERE type = ? AND natural_key = ?"),
                arguments: [EventType.orderCancelled.rawValue, order.orderId]) != nil
            {
                try Self.cancel(db, orderId: order.orderId, at: receivedAt, cancelledAt: receivedAt, events: events)
            }
            return .accepted
        }
    }

    public func recordCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        let fingerprint = identity.fingerprint(nil), events = deliveryEvents
        let outcome = try await intake.submit { db in
            if let outcome = try Self.checkEvent(db, identity, fingerprint, at: receivedAt) { return outcome }
            let orderId = cancellation.orderId
            guard try Bool.fetchOne(db.cachedStatement(sql: "SELECT 1 FROM orders WHERE order_id = ?"), arguments: [orderId]) != nil else {
                // Remembered: a confirmation that arrives later is stored cancelled.
                try Self.addHistory(db, orderId: orderId, OrderLifecycle.cancellationBeforeOrder(at: receivedAt))
                return .accepted
            }
            try Self.cancel(db, orderId: orderId, at: receivedAt, cancelledAt: cancellation.cancelledAt, events: events)
            return .accepted
        }
        // The cancelled order's secrets leave the WAL too (a cancellation is rare).
        if outcome == .accepted { await checkpoint() }
        return outcome
    }

    /// R5, decided by ``OrderLifecycle/cancel(_:at:cancelledAt:)`` inside the intake's transaction.
    static func cancel(_ db: Database, orderId: String, at: Date, cancelledAt: Date, events: Bool) throws {
        _ = try decide(db, orderIds: [orderId], events: events) { facts in
            guard let order = facts[orderId] else { return Decision(()) }
            return OrderLifecycle.cancel(order, at: at, cancelledAt: cancelledAt)
        }
    }

    public func recordActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        let fingerprint = identity.fingerprint(nil)
        return try await intake.submit { db in
            if let outcome = try Self.checkEvent(db, identity, fingerprint, at: receivedAt) { return outcome }
            try Self.markActive(db, customerNumber: activation.customerNumber, at: activation.activatedAt)
            return .accepted
        }
    }

    static func markActive(_ db: Database, customerNumber: String, at: Date) throws {
        try db.run(
            sql: """
                INSERT INTO customers (customer_number, portal_active, activated_at) VALUES (?, 1, ?)
                ON CONFLICT (customer_number) DO UPDATE SET portal_active = 1,
                    activated_at = COALESCE(customers.activated_at, excluded.activated_at)
                """,
            arguments: [customerNumber, at.timeIntervalSince1970])
    }
}

extension Database {
    /// Runs one statement from this connection's statement cache: the SQL is
    /// parsed once per connection, not once per event.
    func run(sql: String, arguments: StatementArguments) throws {
        try cachedStatement(sql: sql).execute(arguments: arguments)
    }
}
