@testable import FlexpostApp
@testable import FlexpostEngine
import FlexpostCore
import FlexpostStore
import Foundation
import Logging
import MetricsTestKit
import ServiceLifecycle
import Synchronization
import Testing
@testable import FlexpostTestSupport

/// `serve` rings its delivery loop when its intake stores a delivery due now,
/// so an administrator notice leaves at once rather than at the next poll.
@Suite("serve's delivery loop wakes on intake")
struct DeliveryWakeTests {
    static func elapsed(since start: ContinuousClock.Instant) -> Duration { ContinuousClock.now - start }

    @Test("the doorbell: a ring before the wait ends it at once, rings coalesce, a ring during the wait ends it, cancellation ends it")
    func doorbell() async {
        let bell = DeliveryDoorbell()
        bell.ring()
        bell.ring()
        var start = ContinuousClock.now
        await bell.wait(upTo: .seconds(10))
        #expect(Self.elapsed(since: start) < .seconds(2))
        // The two rings were one: this wait runs to its timeout.
        start = ContinuousClock.now
        await bell.wait(upTo: .milliseconds(300))
        #expect(Self.elapsed(since: start) >= .milliseconds(290))

        start = ContinuousClock.now
        async let waited: Void = bell.wait(upTo: .seconds(10))
        try? await Task.sleep(for: .milliseconds(150))
        bell.ring()
        await waited
        #expect(Self.elapsed(since: start) >= .milliseconds(140) && Self.elapsed(since: start) < .seconds(3))

        let task = Task { await bell.wait(upTo: .seconds(30)) }
        try? await Task.sleep(for: .milliseconds(100))
        start = ContinuousClock.now
        task.cancel()
        await task.value
        #expect(Self.elapsed(since: start) < .seconds(3))
    }

    @Test("an administrator notice stored by serve's intake leaves at once, not at the next poll (20 s here)",
          arguments: [true, false])
    func intakeWakesLoop(intakeRings: Bool) async throws {
        let dir = try TestEnvironment.temporaryDirectory("wake")
        let store = try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path)
        let transport = SlowRecordingTransport(concurrency: 2, delay: .milliseconds(1))
        let bell = DeliveryDoorbell()
        let now = "2026-11-30T18:00:00Z"
        let loop = DeliveryLoop(
            worker: try TestStores.worker(store, transport: transport, owner: "wake"), store: store,
            clock: FixedClock(RFC3339.parse(now)!), logger: Logger(label: "test.wake"), doorbell: bell, pollInterval: 20)
        let running = Task { try await loop.run() }
        defer { running.cancel() }
        // The loop's first pass finds nothing and settles into its 20 s poll.
        try await Task.sleep(for: .milliseconds(300))

        let intake = TestStores.intake(store, at: now, doorbell: intakeRings ? bell : nil)
        let start = ContinuousClock.now
        // An active customer's further site: the administrator notice is due now, the access data tomorrow.
        #expect(try await intake.submit(Array(try Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture("order-second-site.json")))))
            .line.hasPrefix("accepted"))
        while transport.log.withLock({ $0.messageIDs.isEmpty }) && Self.elapsed(since: start) < .seconds(2) {
            try await Task.sleep(for: .milliseconds(10))
        }
        let sent = transport.log.withLock { $0.messageIDs.count }
        if intakeRings {
            #expect(sent == 1, "the notice left \(Self.elapsed(since: start)) after intake")
        } else {
            #expect(sent == 0, "without the ring the loop sleeps until its poll")
        }
        running.cancel()
        _ = try? await running.value
    }

    /// Log lines kept in memory: level, message and metadata.
    final class LogRecords: Sendable {
        struct Record: Sendable {
            var level: Logger.Level
            var message: String
            var metadata: [String: String]
        }
        private let records = Mutex<[Record]>([])
        var all: [Record] { records.withLock { $0 } }
        func add(_ record: Record) { records.withLock { $0.append(record) } }
    }

    struct RecordingLogHandler: LogHandler {
        let records: LogRecords
        var metadata: Logger.Metadata = [:]
        var logLevel: Logger.Level = .trace
        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }
        func log(event: LogEvent) {
            let merged = self.metadata.merging(event.metadata ?? [:]) { $1 }
            records.add(.init(level: event.level, message: "\(event.message)", metadata: merged.mapValues { "\($0)" }))
        }
    }

    static func failingLoop(_ name: String, backoff: (first: Duration, longest: Duration), metrics: TestMetrics = TestMetrics())
        throws -> (ClaimCountingStore, DeliveryDoorbell, LogRecords, ServiceGroup)
    {
        let dir = try TestEnvironment.temporaryDirectory(name)
        let store = ClaimCountingStore(try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path))
        store.setDown(true)
        let records = LogRecords()
        let bell = DeliveryDoorbell()
        let loop = DeliveryLoop(
            worker: try TestStores.worker(store, transport: SlowRecordingTransport(concurrency: 1, delay: .milliseconds(1)),
                                          owner: name),
            store: store, clock: FixedClock(RFC3339.parse("2026-11-30T18:00:00Z")!),
            logger: Logger(label: "test.\(name)") { _ in RecordingLogHandler(records: records) },
            doorbell: bell, pollInterval: 0.02, failureBackoff: backoff, metrics: metrics)
        let group = ServiceGroup(configuration: .init(services: [.init(service: loop)], logger: Logger(label: "test.group")))
        return (store, bell, records, group)
    }

    @Test("a failing store: passes pause longer after each failure up to the longest pause, one log line per failure; back, one notice")
    func failingStoreBacksOff() async throws {
        let metrics = TestMetrics()
        let (store, bell, records, group) = try Self.failingLoop("backoff", backoff: (.milliseconds(100), .milliseconds(800)),
                                                                 metrics: metrics)
        let start = ContinuousClock.now
        let running = Task { try await group.run() }
        defer { running.cancel() }
        // Five failed passes take at least 0.1 + 0.2 + 0.4 + 0.8 s: a fixed pause of
        // the first length would take 0.4 s. Only lower bounds: a loaded machine is slower, never faster.
        try await waitUntil("five failed passes") { store.failedClaims >= 5 }
        #expect(ContinuousClock.now - start >= .milliseconds(1_500))
        let lines = records.all.filter { $0.message == "delivery pass failed" }
        #expect(lines.prefix(5).map { $0.metadata["retry.in"] ?? "" } == ["0.1s", "0.2s", "0.4s", "0.8s", "0.8s"])
        #expect(lines.allSatisfy { $0.level == .error && ($0.metadata["error"] ?? "").contains("the database is down") })

        // The store is back: the next pass works, and says so once.
        store.setDown(false)
        bell.ring()
        try await waitUntil("the passes work again") { records.all.contains { $0.message == "delivery passes work again" } }
        let total = records.all.filter { $0.message == "delivery pass failed" }.count
        #expect(total == store.failedClaims, "one line per failure")
        let back = records.all.filter { $0.message == "delivery passes work again" }
        #expect(back.count == 1 && back.first?.metadata["pass.failures"] == "\(total)")
        // Each failed pass is counted for the metrics page, the pass that worked is not.
        #expect(try metrics.expectCounter("flexpost_delivery_pass_failures_total").totalValue == Int64(total))
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test("a ring (an intake that got through) ends a long pause after a failure at once")
    func ringEndsPause() async throws {
        let (store, bell, _, group) = try Self.failingLoop("backoff-ring", backoff: (.seconds(60), .seconds(60)))
        let running = Task { try await group.run() }
        defer { running.cancel() }
        try await waitUntil("the first failed pass") { store.failedClaims == 1 }
        let start = ContinuousClock.now
        bell.ring()
        // Without the ring the next pass would come after 60 s.
        try await waitUntil("a pass started by the ring") { store.failedClaims == 2 }
        #expect(ContinuousClock.now - start < .seconds(30))
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test("a retention purge that fails is tried again after a short, growing pause, not a day later; once it works, the next is a day away")
    func failedPurgeRetried() async throws {
        let dir = try TestEnvironment.temporaryDirectory("purge-retry")
        let store = ClaimCountingStore(try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path))
        store.setDown(true)
        let records = LogRecords()
        var sweep = RetentionSweep(store: store, retentionDays: 30, clock: FixedClock(RFC3339.parse("2026-11-30T18:00:00Z")!),
                                   logger: Logger(label: "test.purge") { _ in RecordingLogHandler(records: records) })
        sweep.retryAfterFailure = (.milliseconds(100), .milliseconds(400))
        let group = ServiceGroup(configuration: .init(services: [.init(service: sweep)], logger: Logger(label: "test.group")))
        let start = ContinuousClock.now
        let running = Task { try await group.run() }
        defer { running.cancel() }
        // Four attempts take at least 0.1 + 0.2 + 0.4 s (lower bound only).
        try await waitUntil("four failed purges") { store.purges >= 4 }
        #expect(ContinuousClock.now - start >= .milliseconds(700))
        let lines = records.all.filter { $0.message == "retention purge failed" }
        #expect(lines.prefix(4).map { $0.metadata["retry.in"] ?? "" } == ["0.1s", "0.2s", "0.4s", "0.4s"])
        store.setDown(false)
        try await waitUntil("a purge that worked") { records.all.contains { $0.message == "retention purge done" } }
        let done = records.all.filter { $0.message == "retention purge done" }
        #expect(done.count == 1 && done.first?.metadata["purge.next_in"] == "86400s", "\(done.map(\.metadata))")
        #expect(store.purges == records.all.filter { $0.message == "retention purge failed" }.count + 1)
        await group.triggerGracefulShutdown()
        try await running.value
    }

    @Test("a graceful shutdown ends a long pause after a failure at once")
    func shutdownEndsPause() async throws {
        let (store, _, _, group) = try Self.failingLoop("backoff-stop", backoff: (.seconds(60), .seconds(60)))
        let running = Task { try await group.run() }
        while store.failedClaims == 0 { try await Task.sleep(for: .milliseconds(10)) }
        try await Task.sleep(for: .milliseconds(100))
        let start = ContinuousClock.now
        await group.triggerGracefulShutdown()
        try await running.value
        #expect(Self.elapsed(since: start) < .seconds(3), "stopped after \(Self.elapsed(since: start))")
        #expect(store.failedClaims == 1)
    }
}
