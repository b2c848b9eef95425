import ServiceLifecycle

/// The loop of `serve`'s periodic services (the retention sweep, the bounce
/// mailbox, the delivery events): one run, then a pause until the next or
/// until shutdown. After failures in a row the pause is the ``Backoff`` of
/// their number, so a store or server that is down is not hammered, and one
/// that is back is used again soon. One loop, so that they stop and back off alike.
struct Periodic {
    /// The pause after a run that went well, unless the run names another.
    var interval: Duration
    /// The pause after the first failure in a row, and the longest.
    var backoff: (first: Duration, longest: Duration)

    /// Runs until graceful shutdown or cancellation.
    /// - Parameter work: one run; answers the pause before the next (nil: `interval`, zero: at once).
    /// - Parameter failed: told of each failure, with the failures in a row and the pause before the next try.
    /// - Parameter recovered: told when a run goes well after failures, with how many there were.
    func run(_ work: () async throws -> Duration?, failed: (any Error, Int, Duration) -> Void,
             recovered: (Int) -> Void = { _ in }) async {
        var failures = 0
        while !Task.isCancelled && !Task.isShuttingDownGracefully {
            var wait = interval
            do {
                wait = try await work() ?? interval
                if failures > 0 { recovered(failures) }
                failures = 0
            } catch is CancellationError {
                return
            } catch {
                failures += 1
                wait = Backoff.pause(after: failures, backoff)
                failed(error, failures, wait)
            }
            guard wait > .zero else { continue }
            let sleep = wait
            try? await cancelWhenGracefulShutdown { try await Task.sleep(for: sleep) }
        }
    }
}
