import FlexpostCore
import FlexpostEngine
import FlexpostWebhooks
import FlexpostPostgres
import FlexpostSMTP
import FlexpostStore
import Foundation
import Logging
import ServiceLifecycle

/// The composition root: turns a ``Configuration`` into working parts, once,
/// at start. Every failure here is a configuration error (exit 2).
public struct Runtime: Sendable {
    public let configuration: Configuration
    public let store: any QueueStore
    public let sealer: SecretSealer
    private let loadedComposer: MailComposer?
    public let planner: DeliveryPlanner
    public let logger: Logger

    /// The mail composer with the templates read at start. Only a runtime
    /// started with `mail: true` has one (the commands that send or schedule mail).
    public var composer: MailComposer {
        guard let loadedComposer else { preconditionFailure("the runtime was started without its mail templates") }
        return loadedComposer
    }

    /// The configured queue store before its first use. SQLite is ready;
    /// PostgreSQL's connection pool is a service that must run first: in
    /// `serve`'s ServiceGroup (``pool``), or in a task of the store's own.
    public struct StoreOpening: Sendable {
        public let store: any QueueStore
        /// PostgreSQL's connection pool, for `serve`'s ServiceGroup.
        public let pool: (any Service)?
        /// Connects and migrates (PostgreSQL), the pool already running.
        let connect: @Sendable () async throws -> Void
        /// Runs the pool in a task the store owns until `close()` (every command but `serve`).
        let runPoolItself: @Sendable () -> Void

        /// Opens the store of `configuration`; nothing is connected yet.
        public init(configuration: Configuration, logger: Logger) throws {
            switch configuration.database {
            case .sqlite(let path):
                do {
                    store = try SQLiteQueueStore(path: path, deliveryEvents: configuration.events != nil)
                } catch {
                    throw ConfigurationError("cannot open the SQLite queue \(path): \(error)")
                }
                pool = nil
                connect = {}
                runPoolItself = {}
            case .postgres(let url):
                let postgres: PostgresQueueStore
                do {
                    postgres = try PostgresQueueStore(url: url, logger: logger, deliveryEvents: configuration.events != nil)
                } catch {
                    throw ConfigurationError(error.description)
                }
                store = postgres
                pool = postgres.pool
                runPoolItself = { postgres.runPoolItself() }
                connect = {
                    do {
                        try await postgres.connect()
                    } catch {
                        throw QueueUnreachable(
                            description: "cannot reach the PostgreSQL queue: \(String(describing: error).prefix(300))")
                    }
                }
            }
        }
    }

    /// Builds everything and opens the store (connecting to PostgreSQL when
    /// configured, its pool run by the store itself until `close()`).
    /// - Parameter mail: whether to read and check the mail templates. The
    ///   commands that only read or maintain the queue (`status`, `list`,
    ///   `purge`, `migrate`, `rekey`) pass false, so that a broken template
    ///   deploy or another working directory does not keep support from
    ///   looking at the queue.
    public static func start(configuration: Configuration, logger: Logger, mail: Bool = true) async throws -> Runtime {
        let opening = try StoreOpening(configuration: configuration, logger: logger)
        opening.runPoolItself()
        do {
            return try await start(opening, configuration: configuration, logger: logger, mail: mail)
        } catch {
            await opening.store.close()
            throw error
        }
    }

    /// Builds everything on a store whose pool already runs (`serve`: in its ServiceGroup).
    public static func start(_ opening: StoreOpening, configuration: Configuration, logger: Logger, mail: Bool = true)
        async throws -> Runtime
    {
        try await opening.connect()
        return try await Runtime(configuration: configuration, store: opening.store, logger: logger, mail: mail)
    }

    init(configuration: Configuration, store: any QueueStore, logger: Logger, mail: Bool) async throws {
        self.store = store
        self.configuration = configuration
        self.logger = logger
        self.sealer = try await Self.sealer(configuration: configuration, store: store, logger: logger)
        if mail {
            let templates = try TemplateDirectory.load(configuration.templatesDirectory)
            self.loadedComposer = MailComposer(templates: templates, sender: configuration.sender,
                                               timeZone: configuration.timeZone)
        } else {
            self.loadedComposer = nil
        }
        self.planner = DeliveryPlanner(
            schedule: AccessDataSchedule(timeZone: configuration.timeZone, sendAt: configuration.sendAt),
            messageIDDomain: configuration.sender.email.domain)
    }

    /// The encryption keys and the queue's fingerprint key. Refuses to start
    /// (exit 2, naming the key ids) when the store holds anything sealed under
    /// a key that is not configured: every access-data mail would go dead
    /// and every replayed event would be a conflict.
    static func sealer(configuration: Configuration, store: any QueueStore, logger: Logger) async throws -> SecretSealer {
        let keyText = try configuration.encryptionKey ?? KeyFile.loadOrCreate(path: configuration.keyFile)
        if configuration.encryptionKey == nil, let mode = KeyFile.permissions(configuration.keyFile), mode & 0o077 != 0 {
            logger.warning("the key file can be read by others than its owner: chmod 600 it",
                           metadata: ["key.file": "\(configuration.keyFile)", "key.mode": "\(String(mode, radix: 8))"])
        }
        let ring: EncryptionKeyRing
        do {
            ring = try EncryptionKeyRing(parsing: keyText)
        } catch {
            throw ConfigurationError(error.description)
        }
        let source = configuration.encryptionKey == nil ? "the key file \(configuration.keyFile)" : "FLEXPOST_ENCRYPTION_KEY"
        let missing = try await store.sealingKeyIds().subtracting(ring.ids)
        guard missing.isEmpty else {
            throw ConfigurationError(
                "the queue holds secrets sealed under key id \(missing.sorted().joined(separator: ", ")), which \(source) "
                    + "does not include (it has \(ring.ids.joined(separator: ", "))): configure that key too")
        }
        let bare = SecretSealer(keyRing: ring)
        let sealed = try await store.fingerprintKey(orMake: { bare.sealNewFingerprintKey() })
        do {
            return SecretSealer(keyRing: ring, fingerprintKey: try bare.openFingerprintKey(sealed))
        } catch {
            throw ConfigurationError("the queue's fingerprint key (key id \(sealed.keyId)) cannot be opened with \(source)")
        }
    }

    /// SPEC §8: a hold must not be forgotten. Logged at the start of the
    /// commands that deliver (`serve`, `drain`): how many deliveries are held,
    /// since when, and each hold in force.
    public func logHolds() async throws {
        let holds = try await store.holds()
        guard let oldest = holds.map(\.since).min() else { return }
        let held = try await store.countsByState()[.held] ?? 0
        logger.warning("\(held.formatted()) deliveries held since \(RFC3339.format(oldest)): `flexpost release` ends a hold",
                       metadata: ["holds": "\(holds.map(\.summary).joined(separator: "; "))"])
    }

    /// SPEC §6: delivery events are written by the process that ends a
    /// delivery, so each such process needs `FLEXPOST_EVENTS_URL`. Logged at
    /// the start of the commands that end deliveries (`serve`, `drain`,
    /// `bounce`, `cancel`, `erase`) when events wait in the queue, which
    /// means another process writes them, and this one has none.
    public func warnIfDeliveryEventsUnset() async throws {
        guard configuration.events == nil else { return }
        let waiting = try await store.deliveryEventCounts().pending
        guard waiting > 0 else { return }
        logger.warning("""
            \(waiting.formatted()) delivery events wait in the queue, but FLEXPOST_EVENTS_URL is not set here: \
            deliveries this process ends are not told to the order system
            """, metadata: ["events.pending": "\(waiting)"])
    }

    public func intake(clock: any WallClock, doorbell: DeliveryDoorbell? = nil) -> Intake {
        Intake(store: DeadlineStore(store, .requests), sealer: sealer, planner: planner, clock: clock, doorbell: doorbell)
    }

    public func makeTransport() throws(ConfigurationError) -> any MailTransport {
        if let smtp = configuration.smtp {
            return SMTPTransport(configuration: smtp, connections: configuration.smtpConnections)
        }
        let outbox: OutboxTransport
        do {
            outbox = try OutboxTransport(directory: URL(fileURLWithPath: configuration.outboxDirectory))
        } catch {
            throw ConfigurationError("cannot create the outbox \(configuration.outboxDirectory)")
        }
        // Said at every start: a forgotten FLEXPOST_SMTP_URL must not pass as delivery.
        logger.warning("FLEXPOST_SMTP_URL is unset: mail is written to files, not sent to anyone",
                       metadata: ["outbox": "\(configuration.outboxDirectory)"])
        return outbox
    }

    public func worker(transport: any MailTransport) -> DeliveryWorker {
        DeliveryWorker(
            store: store, transport: transport, composer: composer, sealer: sealer,
            retryPolicy: RetryPolicy(lifetime: configuration.retryLifetime),
            leaseSeconds: TimeInterval(configuration.leaseSeconds),
            owner: "\(Configuration.heloName())/\(getpid())/\(UUID().uuidString.prefix(8))", logger: logger,
            returnPath: returnPath)
    }

    /// SPEC §6: VERP addresses under `FLEXPOST_BOUNCE_ADDRESS`, keyed with the queue's fingerprint key.
    public var returnPath: ReturnPath? {
        guard let base = configuration.bounceAddress, let key = sealer.fingerprintKey else { return nil }
        return ReturnPath(base: base, key: key)
    }

    /// SPEC §6: the sender of delivery events and its HTTP client, when
    /// `FLEXPOST_EVENTS_URL` is set. The caller shuts the client down.
    public func eventSender(clock: any WallClock) -> (sender: DeliveryEventSender, transport: WebhookEventTransport)? {
        guard let events = configuration.events else { return nil }
        let transport = WebhookEventTransport(url: events.url)
        return (DeliveryEventSender(store: store, transport: transport, signer: events.signer,
                                    policy: DeliveryEvents.retryPolicy(lifetime: configuration.retryLifetime), clock: clock,
                                    logger: logger),
                transport)
    }

    public func bounceIntake(clock: any WallClock) -> BounceIntake {
        BounceIntake(store: store, returnPath: returnPath, clock: clock, logger: logger)
    }
}

/// The queue store could not be reached at start (exit 1: an operational fault, not a configuration error).
public struct QueueUnreachable: Error, CustomStringConvertible, Sendable {
    public let description: String
}
