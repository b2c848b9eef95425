import FlexpostCore
import Foundation
import Logging
import NIOSSL
import PostgresNIO
import ServiceLifecycle
import Synchronization

/// The queue on a shared PostgreSQL database: the same contract as the
/// SQLite store, for any number of workers on any number of machines.
/// Claims use `FOR UPDATE SKIP LOCKED` in short transactions; intake is
/// idempotent by unique constraint, not by check-then-insert.
///
/// The client's connection pool is a service (``pool``) that must run before
/// the store is used: `serve` runs it in its ServiceGroup, as the first
/// service, so that it stops last; the other commands open the store with
/// ``open(url:logger:deliveryEvents:)``, which runs it in a task of the
/// store's own until ``close()``.
public final class PostgresQueueStore: QueueStore {
    let client: PostgresClient
    let logger: Logger
    /// The client's connection pool, as a `Service`.
    public let pool: ConnectionPool
    /// The pool's run when the store runs it itself.
    private let ownRun = Mutex<Task<Void, Never>?>(nil)
    /// SPEC §6: every delivery that ends writes a delivery event (`FLEXPOST_EVENTS_URL` is set).
    public let deliveryEvents: Bool

    /// Why a database URL cannot be used. Never echoes the password.
    public struct URLError: Error, CustomStringConvertible, Sendable {
        public let description: String
    }

    /// The client configuration of a `FLEXPOST_DATABASE_URL` (``PostgresURL``).
    public static func configuration(url text: String) throws(URLError) -> PostgresClient.Configuration {
        try PostgresURL(text).clientConfiguration
    }

    /// Runs the client's connection pool; it reconnects by itself, and stops
    /// at graceful shutdown or cancellation.
    public struct ConnectionPool: Service {
        let client: PostgresClient
        private let running: AsyncStream<Void>
        private let started: AsyncStream<Void>.Continuation

        init(client: PostgresClient) {
            self.client = client
            (running, started) = AsyncStream<Void>.makeStream()
        }

        public func run() async {
            started.finish()
            await client.run()
        }

        /// Returns once ``run()`` has begun, so that the first lease does not
        /// find the pool stopped (postgres-nio warns then).
        func hasStarted() async { for await _ in running {} }
    }

    /// The store, its pool not running yet: run ``pool``, then ``connect()``.
    /// - Parameter deliveryEvents: write a delivery event with every end of a delivery (SPEC §6).
    public init(url: String, logger: Logger, deliveryEvents: Bool = false) throws(URLError) {
        let client = PostgresClient(configuration: try Self.configuration(url: url), backgroundLogger: logger)
        self.client = client
        self.pool = ConnectionPool(client: client)
        self.logger = logger
        self.deliveryEvents = deliveryEvents
    }

    /// The store with its pool run in a task of its own until ``close()``,
    /// connected and migrated: for every command but `serve`.
    public static func open(url: String, logger: Logger, deliveryEvents: Bool = false) async throws -> PostgresQueueStore {
        let store = try PostgresQueueStore(url: url, logger: logger, deliveryEvents: deliveryEvents)
        store.runPoolItself()
        do {
            try await store.connect()
        } catch {
            await store.close()
            throw error
        }
        return store
    }

    /// Runs ``pool`` in a task of the store's own, until ``close()``.
    public func runPoolItself() {
        let pool = self.pool
        ownRun.withLock { run in
            guard run == nil else { return }
            run = Task { await pool.run() }
        }
    }

    /// The first contact, bounded, then the migrations; the pool must be running.
    public func connect() async throws {
        await pool.hasStarted()
        // Fail fast when the server cannot be reached (the pool would retry for
        // about a minute); only this first contact is bounded, not the migrations.
        try await withStoreDeadline(StoreTimeout.requestSeconds, "a first connection") {
            for try await _ in try await self.client.query("SELECT 1", logger: self.logger) {}
        }
        _ = try await PostgresSchema.migrate(client, logger: logger)
    }

    /// Stops the pool when the store runs it itself; under `serve` the
    /// ServiceGroup stops it after every other service.
    public func close() async {
        guard let run = ownRun.withLock({ $0 }) else { return }
        run.cancel()
        _ = await run.value
    }

    deinit { ownRun.withLock { $0?.cancel() } }

    func transaction<T: Sendable>(_ body: (PostgresConnection) async throws -> T) async throws -> T {
        try await client.withTransaction(logger: logger) { connection in try await body(connection) }
    }

    /// nil: new and now recorded; otherwise the outcome to answer.
    func checkEvent(_ connection: PostgresConnection, _ identity: EventIdentity, at: Date) async throws -> IntakeOutcome? {
        guard let fingerprint = identity.fingerprint(nil) else { return .conflict }
        let inserted = try await connection.query(
            """
            INSERT INTO events (type, natural_key, fingerprint_key, fingerprint, received_at)
            VALUES (\(identity.type.rawValue), \(identity.key), \(fingerprint.keyId), \(Data(fingerprint.digest)), \(at.timeIntervalSince1970))
            ON CONFLICT (type, natural_key) DO NOTHING RETURNING id
            """, logger: logger
        ).collect()
        if !inserted.isEmpty { return nil }
        return try await compareStored(connection, identity)
    }

    /// The answer for an event whose key is already stored: the same content
    /// is a duplicate, other content a conflict. A statement of its own, so
    /// that it sees an event another transaction committed meanwhile.
    func compareStored(_ connection: PostgresConnection, _ identity: EventIdentity) async throws -> IntakeOutcome {
        for try await (keyId, digest) in try await connection.query(
            "SELECT fingerprint_key, fingerprint FROM events WHERE type = \(identity.type.rawValue) AND natural_key = \(identity.key)",
            logger: logger
        ).decode((String, Data).self) {
            let stored = EventFingerprint(keyId: keyId, digest: Array(digest))
            return identity.sameContent(as: stored) ? .duplicate : .conflict
        }
        return .conflict
    }

    func addHistory(_ connection: PostgresConnection, orderId: String, _ entry: HistoryEntry) async throws {
        try await connection.query(
            """
            INSERT INTO history (order_id, at, actor, action, detail)
            VALUES (\(orderId), \(entry.at.timeIntervalSince1970), \(entry.actor), \(entry.action.rawValue), \(entry.detail))
            """, logger: logger
        ).consume()
    }

    func markActive(_ connection: PostgresConnection, customerNumber: String, at: Date) async throws {
        try await connection.query(
            """
            INSERT INTO customers (customer_number, portal_active, activated_at) VALUES (\(customerNumber), TRUE, \(at.timeIntervalSince1970))
            ON CONFLICT (customer_number) DO UPDATE SET portal_active = TRUE,
                activated_at = COALESCE(customers.activated_at, excluded.activated_at)
            """, logger: logger
        ).consume()
    }

    /// An order in one round trip in the common case (``PostgresStatements/OrderIntake``:
    /// a new event, a customer not already known active unless the order says
    /// so, no cancellation first or at the same moment); otherwise in a
    /// transaction of five (BEGIN, the order's guard row, the event with the
    /// customer's portal state, the order's rows, COMMIT). Each row was a
    /// round trip of its own before.
    public func recordOrder(
        _ identity: EventIdentity, customerNumber: String, receivedAt: Date,
        prepare: @escaping @Sendable (Bool) -> PreparedOrder
    ) async throws -> IntakeOutcome {
        try await storeOrder(identity, customerNumber: customerNumber, receivedAt: receivedAt, prepare: prepare)
    }

    func storeOrder(
        _ identity: EventIdentity, customerNumber: String, receivedAt: Date,
        prepare: @escaping @Sendable (Bool) -> PreparedOrder
    ) async throws -> IntakeOutcome {
        guard let fingerprint = identity.fingerprint(nil) else { return .conflict }
        let received = receivedAt.timeIntervalSince1970
        let rows = { (prepared: PreparedOrder) throws -> PostgresStatements.OrderRows in
            PostgresStatements.OrderRows(
                order: prepared.plan.order, customerNumber: customerNumber,
                document: try StoredDocument.encode(prepared.plan.order), receivedAt: received,
                secrets: prepared.sealedSecrets, deliveries: prepared.plan.deliveries,
                history: prepared.plan.confirmation(at: receivedAt))
        }
        for try await stored in try await client.execute(
            PostgresStatements.OrderIntake(
                rows: try rows(prepare(false)), type: identity.type.rawValue, key: identity.key,
                fingerprintKey: fingerprint.keyId, fingerprint: fingerprint.digest),
            logger: logger)
        {
            if stored { return .accepted }
        }
        return try await transaction { connection in
            try await self.guardOrder(connection, identity.key)  // (order.confirmed, orderId)
            var inserted = false, knownActive = false
            for try await (isNew, active) in try await connection.execute(
                PostgresStatements.EventInsertion(
                    type: identity.type.rawValue, key: identity.key, fingerprintKey: fingerprint.keyId,
                    fingerprint: fingerprint.digest, receivedAt: received, customerNumber: customerNumber),
                logger: self.logger)
            {
                inserted = isNew
                knownActive = active
            }
            if !inserted { return try await self.compareStored(connection, identity) }
            let prepared = prepare(knownActive)
            var cancelledFirst = false
            for try await cancelled in try await connection.execute(
                PostgresStatements.OrderInsertion(rows: try rows(prepared)), logger: self.logger)
            {
                cancelledFirst = cancelled
            }
            if cancelledFirst {
                try await self.cancel(connection, orderId: prepared.plan.order.orderId, at: receivedAt, cancelledAt: receivedAt)
            }
            return .accepted
        }
    }

    public func recordCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        try await storeCancellation(identity, cancellation, receivedAt: receivedAt)
    }

    func storeCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        try await transaction { connection in
            try await self.guardOrder(connection, cancellation.orderId)
            if let outcome = try await self.checkEvent(connection, identity, at: receivedAt) { return outcome }
            let known = try await connection.query(
                "SELECT 1 FROM orders WHERE order_id = \(cancellation.orderId) FOR UPDATE", logger: self.logger
            ).collect()
            if known.isEmpty {
                try await self.addHistory(connection, orderId: cancellation.orderId,
                                          OrderLifecycle.cancellationBeforeOrder(at: receivedAt))
            } else {
                try await self.cancel(connection, orderId: cancellation.orderId, at: receivedAt, cancelledAt: cancellation.cancelledAt)
            }
            return .accepted
        }
    }

    /// Creates or locks the order's guard row until this transaction ends (see
    /// migration 2), waiting for a transaction that creates or holds it: what
    /// that one stored for the order is then visible to this one's next
    /// statements. The row may already exist (an earlier event for the order,
    /// or the one-statement path that gave way), so it is locked, not only inserted.
    func guardOrder(_ connection: PostgresConnection, _ orderId: String) async throws {
        try await connection.query(
            """
            INSERT INTO order_guards (order_id) VALUES (\(orderId))
            ON CONFLICT (order_id) DO UPDATE SET order_id = excluded.order_id
            """, logger: logger
        ).consume()
    }

    /// R5, decided by ``OrderLifecycle/cancel(_:at:cancelledAt:)`` inside the intake's transaction.
    func cancel(_ connection: PostgresConnection, orderId: String, at: Date, cancelledAt: Date) async throws {
        _ = try await decide(connection, orderIds: [orderId]) { facts in
            guard let order = facts[orderId] else { return Decision(()) }
            return OrderLifecycle.cancel(order, at: at, cancelledAt: cancelledAt)
        }
    }

    public func recordActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        try await storeActivation(identity, activation, receivedAt: receivedAt)
    }

    func storeActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        try await transaction { connection in
            if let outcome = try await self.checkEvent(connection, identity, at: receivedAt) { return outcome }
            try await self.markActive(connection, customerNumber: activation.customerNumber, at: activation.activatedAt)
            return .accepted
        }
    }
}
