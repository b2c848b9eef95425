import FlexpostCore
import Foundation
import Logging
import ServiceLifecycle

/// R8 under `serve`: the purge at start and then once a day.
struct RetentionSweep: Service {
    let runtime: Runtime
    let clock: any WallClock
    let interval: Duration = .seconds(86_400)

    static func purge(runtime: Runtime, at: Date) async throws -> Int {
        let cutoff = at.addingTimeInterval(-Double(runtime.configuration.retentionDays) * 86_400)
        return try await runtime.store.purgeSecrets(finishedBefore: cutoff, at: at)
    }

    func run() async throws {
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            do {
                let count = try await Self.purge(runtime: runtime, at: clock.now())
                if count > 0 { runtime.logger.info("retention purge", metadata: ["purge.orders": "\(count)"]) }
            } catch is CancellationError {
                return
            } catch {
                runtime.logger.error("retention purge failed", metadata: ["error": "\(error)"])
            }
            // Sleeps a day, or until shutdown.
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: interval) }
        }
    }
}
