import FlexpostCore
import Foundation
import Logging
import ServiceLifecycle

/// R8 under `serve`: the purge at start and then once a day. A purge that
/// fails (the store down at that moment) is tried again after 5 minutes,
/// doubling up to an hour, not a day later: secrets must not outlive their
/// retention by a day because of a short outage.
public struct RetentionSweep: Service {
    let store: any QueueStore
    /// Its copies of sent mail (the outbox) go with the secrets.
    let transport: (any MailTransport)?
    let retentionDays: Int
    let clock: any WallClock
    let logger: Logger
    var interval: Duration = .seconds(86_400)
    var retryAfterFailure: (first: Duration, longest: Duration) = (.seconds(300), .seconds(3_600))

    public init(store: any QueueStore, transport: (any MailTransport)? = nil, retentionDays: Int, clock: any WallClock,
                logger: Logger) {
        self.store = store
        self.transport = transport
        self.retentionDays = retentionDays
        self.clock = clock
        self.logger = logger
    }

    /// One purge at `at` (`flexpost purge`); returns how many orders' secrets
    /// were destroyed, and how many copies of mail the transport deleted.
    public static func purge(store: any QueueStore, transport: (any MailTransport)?, retentionDays: Int, at: Date)
        async throws -> (orders: Int, copies: Int)
    {
        let retention = SecretRetention(days: retentionDays)
        let orders = try await store.purgeSecrets(retention, at: at)
        let copies = try await transport?.purge(writtenBefore: retention.cutoff(at: at)) ?? 0
        return (orders, copies)
    }

    public func run() async throws {
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = interval
            do {
                let (orders, copies) = try await Self.purge(
                    store: store, transport: transport, retentionDays: retentionDays, at: clock.now())
                if orders > 0 || copies > 0 {
                    logger.info("retention purge", metadata: ["purge.orders": "\(orders)", "purge.outbox_files": "\(copies)"])
                }
                failures = 0
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                wait = Backoff.pause(after: failures, retryAfterFailure)
                logger.error("retention purge failed", metadata: [
                    "error": "\(error)", "purge.failures": "\(failures)", "retry.in": "\(Backoff.text(wait))",
                ])
            }
            // Sleeps until the next purge, or until shutdown.
            let sleep = wait
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: sleep) }
        }
    }
}
