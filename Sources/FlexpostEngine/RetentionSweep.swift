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
    let retentionDays: Int
    let clock: any WallClock
    let logger: Logger
    var interval: Duration = .seconds(86_400)
    var retryAfterFailure: (first: Duration, longest: Duration) = (.seconds(300), .seconds(3_600))

    public init(store: any QueueStore, retentionDays: Int, clock: any WallClock, logger: Logger) {
        self.store = store
        self.retentionDays = retentionDays
        self.clock = clock
        self.logger = logger
    }

    /// One purge at `at` (`flexpost purge`); returns how many orders' secrets were destroyed.
    public static func purge(store: any QueueStore, retentionDays: Int, at: Date) async throws -> Int {
        try await store.purgeSecrets(SecretRetention(days: retentionDays), at: at)
    }

    public func run() async throws {
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = interval
            do {
                let count = try await Self.purge(store: store, retentionDays: retentionDays, at: clock.now())
                if count > 0 { logger.info("retention purge", metadata: ["purge.orders": "\(count)"]) }
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
