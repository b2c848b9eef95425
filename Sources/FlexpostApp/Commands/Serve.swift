import ArgumentParser
import FlexpostCore
import FlexpostEngine
import FlexpostSMTP
import FlexpostServer
import Foundation
import Hummingbird
import HummingbirdCore
import NIOCore
import ServiceLifecycle
import Metrics
import Prometheus

/// `flexpost serve`: HTTP intake and the continuous delivery loop.
struct Serve: AsyncParsableCommand {
    /// Open HTTP connections at most; each may buffer a body of up to 1 MiB.
    static let maxConnections = 256

    static let configuration = CommandConfiguration(abstract: "Run the HTTP API and the continuous delivery loop.")

    /// SPEC §7: the people of `FLEXPOST_SUPPORT_USERS`; a file that cannot be
    /// read or a bad line stops the start (exit 2), naming the file and line.
    static func people(_ config: Configuration) throws -> SupportUsers? {
        guard let path = config.supportUsersFile else { return nil }
        guard let data = FileManager.default.contents(atPath: path) else {
            throw ConfigurationError("FLEXPOST_SUPPORT_USERS \(path): cannot be read")
        }
        do {
            return try SupportUsers.parse(String(decoding: data, as: UTF8.self))
        } catch {
            throw ConfigurationError("FLEXPOST_SUPPORT_USERS \(path): \(error.description)")
        }
    }

    func run() async throws {
        let (configuration, logger) = try startLogging()
        let opening = try Runtime.StoreOpening(configuration: configuration, logger: logger)
        // PostgreSQL's connection pool is the first service, so that it stops
        // last, after everything that uses the store. The second starts the
        // runtime on it (connects, migrates, checks the keys), then runs serve's
        // own services as a group of their own, which stops when this one does.
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = []
        if let pool = opening.pool { services.append(.init(service: pool)) }
        services.append(.init(service: ServeParts {
            try await serve(Runtime.start(opening, configuration: configuration, logger: logger))
        }))
        var group = ServiceGroupConfiguration(services: services, logger: logger)
        group.gracefulShutdownSignals = [.sigterm, .sigint]
        group.maximumGracefulShutdownDuration = .seconds(Double(configuration.leaseSeconds) / 3 + 20)
        group.maximumCancellationDuration = .seconds(5)
        try await ServiceGroup(configuration: group).run()
    }

    /// Runs `serve`'s services on a started runtime until graceful shutdown.
    private struct ServeParts: Service {
        let body: @Sendable () async throws -> Void
        func run() async throws { try await body() }
    }

    func serve(_ runtime: Runtime) async throws {
        try await runtime.logHolds()
        try await runtime.warnIfDeliveryEventsUnset()
        let config = runtime.configuration
        guard let secret = config.webhookSecret else {
            throw ConfigurationError("FLEXPOST_WEBHOOK_SECRET is required by serve")
        }
        let verifier: WebhookVerifier
        do {
            verifier = try WebhookVerifier(secrets: secret)
        } catch {
            throw ConfigurationError(error.description)
        }
        let clock = SystemClock()
        let registry = PrometheusCollectorRegistry()
        var factory = PrometheusMetricsFactory(registry: registry)
        factory.defaultDurationHistogramBuckets = [
            .milliseconds(5), .milliseconds(10), .milliseconds(25), .milliseconds(50), .milliseconds(100),
            .milliseconds(250), .milliseconds(500), .seconds(1), .seconds(2.5), .seconds(5), .seconds(10), .seconds(30),
        ]
        MetricsSystem.bootstrap(factory)
        let transport = try runtime.makeTransport()
        let worker = runtime.worker(transport: transport)
        let doorbell = DeliveryDoorbell()
        let loop = DeliveryLoop(worker: worker, store: runtime.store, clock: clock, logger: runtime.logger,
                                doorbell: doorbell)

        let router = Router(context: FlexpostRequestContext.self, options: .autoGenerateHeadEndpoints)
        // A body must arrive within the idle timeout, however it trickles.
        router.add(middleware: BodyDeadlineMiddleware(.nanoseconds(Int64(config.httpIdleTimeout * 1e9))))
        EventRoutes(intake: runtime.intake(clock: clock, doorbell: doorbell), verifier: verifier, clock: clock).register(on: router)
        // Every store call a request makes is bounded: a probe's within its
        // short patience, the others within a webhook sender's.
        let probes = DeadlineStore(runtime.store, .probes)
        HealthRoutes(store: probes).register(on: router)
        MetricsRoutes(registry: registry, store: probes, clock: clock).register(on: router)
        let planner = runtime.planner
        let support = SupportRoutes(
            store: DeadlineStore(runtime.store, .requests), token: config.supportToken, clock: clock, resendLimit: config.resendLimit,
            messageID: { planner.newMessageID() }, queued: { doorbell.ring() })
        support.register(on: router)
        OperatorRoutes(support: support).register(on: router)
        // The session cookie is `Secure` unless the console is served on loopback
        // (plain HTTP there; a TLS proxy in front of a loopback listener sets its own).
        SupportConsole(support: support, pages: try TemplateDirectory.loadConsole(config.templatesDirectory),
                       secureCookies: !Loopback.contains(host: config.httpHost), people: try Self.people(config),
                       schedule: runtime.planner.schedule)
            .register(on: router)
        MethodNotAllowed.register(on: router)
        if config.supportToken == nil {
            runtime.logger.warning("FLEXPOST_SUPPORT_TOKEN is not set: the support API and console refuse every request")
        }
        // Slow clients cannot hold the server: a connection that sends nothing for
        // the idle timeout (half-sent headers, a stalled body, an idle keep-alive)
        // is closed, and at most maxConnections are open at once (more wait in
        // the listen backlog).
        let app = Application(
            router: router,
            server: .http1(configuration: .init(idleTimeout: .nanoseconds(Int64(config.httpIdleTimeout * 1e9)))),
            configuration: .init(
                address: .hostname(config.httpHost, port: config.httpPort), serverName: "flexpost",
                availableConnectionsDelegate: MaximumAvailableConnections(Self.maxConnections)),
            logger: runtime.logger)
        // Shut down in reverse order: the HTTP intake first, then the sweep, then the
        // delivery loop, which finishes its attempt in flight, and the store last. Bounded, so that a stuck
        // dependency can never keep the process from exiting.
        // SPEC §6: delivery events to the order system; its HTTP client closes after the sender stopped.
        let events = runtime.eventSender(clock: clock)
        var services: [ServiceGroupConfiguration.ServiceConfiguration] = [.init(service: StoreService(store: runtime.store))]
        if let events { services += [.init(service: events.transport), .init(service: events.sender)] }
        // SPEC §6: the bounce mailbox, polled.
        if let mailbox = config.bounceMailbox {
            services.append(.init(service: BouncePoller(
                mailbox: IMAPMailbox(configuration: mailbox), intake: runtime.bounceIntake(clock: clock),
                interval: .seconds(config.bouncePoll), logger: runtime.logger)))
        }
        var group = ServiceGroupConfiguration(
            services: services + [
                .init(service: loop),
                .init(service: SearchIndexer(index: runtime.store, logger: runtime.logger)),
                .init(service: RetentionSweep(store: runtime.store, transport: transport,
                                              retentionDays: runtime.configuration.retentionDays,
                                              personalDataDays: runtime.configuration.personalDataDays, clock: clock,
                                              logger: runtime.logger)),
                .init(service: app),
            ],
            logger: runtime.logger)
        group.maximumGracefulShutdownDuration = .seconds(Double(config.leaseSeconds) / 3 + 15)
        group.maximumCancellationDuration = .seconds(5)
        runtime.logger.info("flexpost serve starting", metadata: [
            "http.address": "\(config.httpHost):\(config.httpPort)",
            "smtp": "\(config.smtp?.url ?? "outbox \(config.outboxDirectory)")",
            "events": "\(config.events?.url ?? "off")",
            "bounce.mailbox": "\(config.bounceMailbox?.url ?? "off")",
        ])
        do {
            try await ServiceGroup(configuration: group).run()
        } catch let error as IOError where [EADDRINUSE, EACCES, EADDRNOTAVAIL].contains(error.errnoCode) {
            // The address cannot be listened on: a configuration error (exit 2)
            // that names the setting, not NIO's system-call text.
            let reason = String(cString: strerror(error.errnoCode)).lowercased()
            throw ConfigurationError("FLEXPOST_HTTP_ADDRESS \(config.httpHost):\(config.httpPort): cannot listen: \(reason)")
        }
    }
}
