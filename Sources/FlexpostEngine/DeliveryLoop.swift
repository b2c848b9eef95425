import FlexpostCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle
import Synchronization

/// `serve`'s continuous delivery: a pass at once when this process's intake
/// rings the doorbell (a notice due now), and whenever something is due,
/// polling the store at least every quarter second so that mail due now
/// leaves within about a second also when another process took the intake.
/// On graceful shutdown it stops claiming, lets the in-flight send finish,
/// and gives unfinished claims back.
public struct DeliveryLoop: Service {
    let worker: DeliveryWorker
    let store: any QueueStore
    let clock: any WallClock
    let logger: Logger
    let doorbell: DeliveryDoorbell
    let pollInterval: TimeInterval
    /// How long a pass waits before claiming again after a claim that found
    /// less than a batch (see ``DeliveryWorker/runPass(clock:limit:batchSize:trickleLinger:shouldStop:progress:)``).
    /// Under a steady intake of notices it lets a claim gather a batch instead
    /// of a write transaction for every few deliveries (less CPU per message;
    /// the figures are in docs/benchmarks.md). A notice that arrives during a
    /// pass leaves up to that much later, the first of a quiet moment at once.
    let trickleLinger: Duration
    /// Pauses after failed passes: the first, doubled after each further
    /// failure up to the last (a store that is down is not hammered, and its
    /// log is a line per pause, not a line per second).
    let failureBackoff: (first: Duration, longest: Duration)
    /// Where `flexpost_delivery_pass_failures_total` is counted.
    let metrics: any MetricsFactory

    public init(worker: DeliveryWorker, store: any QueueStore, clock: any WallClock, logger: Logger,
                doorbell: DeliveryDoorbell = DeliveryDoorbell(), pollInterval: TimeInterval = 0.25,
                trickleLinger: Duration = .milliseconds(50),
                failureBackoff: (first: Duration, longest: Duration) = (.seconds(1), .seconds(30)),
                metrics: any MetricsFactory = MetricsSystem.factory) {
        self.worker = worker
        self.store = store
        self.clock = clock
        self.logger = logger
        self.doorbell = doorbell
        self.pollInterval = pollInterval
        self.trickleLinger = trickleLinger
        self.failureBackoff = failureBackoff
        self.metrics = metrics
    }

    public func run() async throws {
        let stopping = StopSignal()
        // Polls for the next due time are given up at a stop.
        let polling = DeadlineStore(store, StoreDeadlines(seconds: 10, abandonIf: { stopping.isSet }))
        let passFailures = Counter(label: "flexpost_delivery_pass_failures_total", factory: metrics)
        var failures = 0
        var failingSince = ContinuousClock.now
        var storeAnswersAtStop = true
        await withGracefulShutdownHandler {
            while !stopping.isSet && !Task.isCancelled {
                do {
                    let summary = try await worker.runPass(
                        clock: clock, trickleLinger: trickleLinger, shouldStop: { stopping.isSet })
                    if failures > 0 {
                        logger.notice("delivery passes work again", metadata: [
                            "pass.failures": "\(failures)",
                            "outage.seconds": "\(Int((ContinuousClock.now - failingSince).components.seconds))",
                        ])
                        failures = 0
                    }
                    if summary.claimed > 0 {
                        logger.debug("delivery pass", metadata: [
                            "pass.sent": "\(summary.sent)", "pass.retrying": "\(summary.retrying)",
                            "pass.dead": "\(summary.dead)",
                        ])
                    }
                } catch is CancellationError {
                    break
                } catch where stopping.isSet {
                    // Stopping: no pause and no retry. A store that did not answer
                    // the pass's last call is not asked again below.
                    storeAnswersAtStop = !(error is StoreTimeout || error is StoreCallAbandoned)
                    logger.warning("delivery pass ended at shutdown", metadata: ["error": "\(error)"])
                    break
                } catch {
                    if failures == 0 { failingSince = ContinuousClock.now }
                    failures += 1
                    passFailures.increment()
                    let pause = Backoff.pause(after: failures, failureBackoff)
                    logger.error("delivery pass failed", metadata: [
                        "error": "\(error)", "pass.failures": "\(failures)",
                        "retry.in": "\(Backoff.text(pause))",
                    ])
                    // A ring (this process's intake stored a due delivery, so the store
                    // answers again) or a shutdown ends the pause early.
                    await doorbell.wait(upTo: pause)
                    continue
                }
                var wait = pollInterval
                if let next = try? await polling.nextDueDate() {
                    wait = min(pollInterval, max(0.01, next.timeIntervalSince(clock.now())))
                }
                await doorbell.wait(upTo: .milliseconds(Int(wait * 1000)))
            }
            // Detached: claims are given back even when this task was cancelled.
            // Bounded: a store that does not answer now lets the leases run out,
            // and the process still stops (a stop that overran the service group's
            // limits would end in a crash report instead).
            let worker = self.worker
            if storeAnswersAtStop {
                let release = Task.detached {
                    try await DeadlineStore(worker.store, .requests).releaseClaims(owner: worker.owner)
                }
                do {
                    try await release.value
                } catch {
                    logger.error("could not release claims at shutdown", metadata: [
                        "error": "\(error)", "lease.seconds": "\(Int(worker.leaseSeconds))",
                    ])
                }
            } else {
                logger.warning("claims not given back at shutdown: the store does not answer; free again when their lease runs out",
                               metadata: ["lease.seconds": "\(Int(worker.leaseSeconds))"])
            }
            logger.info("delivery loop stopped")
        } onGracefulShutdown: {
            stopping.set()
            doorbell.ring()  // ends a wait, however long
        }
    }
}

/// The pause before trying again after failures in a row (the delivery loop's
/// passes, the retention purge): the first, doubled after each further
/// failure up to the longest.
enum Backoff {
    static func pause(after failures: Int, _ backoff: (first: Duration, longest: Duration)) -> Duration {
        min(backoff.first * (1 << min(failures - 1, 20)), backoff.longest)
    }

    /// "0.4s", "30s": a pause as operators read it (tenths at most).
    static func text(_ duration: Duration) -> String {
        let tenths = duration.components.seconds * 10 + duration.components.attoseconds / 100_000_000_000_000_000
        return tenths % 10 == 0 ? "\(tenths / 10)s" : "\(tenths / 10).\(tenths % 10)s"
    }
}

/// A one-way flag set by the graceful-shutdown handler.
final class StopSignal: Sendable {
    private let flag = Atomic<Bool>(false)
    var isSet: Bool { flag.load(ordering: .acquiring) }
    func set() { flag.store(true, ordering: .releasing) }
}
