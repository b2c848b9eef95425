import FlexpostApp
import FlexpostCore
import FlexpostStore
import Foundation
import Logging
import Testing

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
}
