import FlexpostCore
@testable import FlexpostStore
import Foundation
import Logging
import GRDB
import Synchronization
import Testing

@testable import FlexpostApp
@testable import FlexpostEngine
@testable import FlexpostTestSupport

/// The mechanisms `make bench` measures, checked for correctness: group
/// commit of attempt results, batched store calls on both stores, the
/// durability setting of SQLite, and event fingerprints old and new.
@Suite("throughput mechanics")
struct ThroughputMechanicsTests {
    static let t0 = RFC3339.parse("2026-12-01T07:00:00Z")!

    @Test("group commit: results that arrive during a write share the next one; each lane gets its own answer")
    func groupCommit() async throws {
        let batches = Mutex<[[Int64]]>([])
        let recorder = AttemptRecorder { completed in
            batches.withLock { $0.append(completed.map(\.deliveryId)) }
            try await Task.sleep(for: .milliseconds(50))  // a slow commit: others queue meanwhile
            return completed.map { $0.deliveryId % 2 == 0 }  // even ids still held
        }
        let record = AttemptRecord(startedAt: Self.t0, finishedAt: Self.t0, nextState: .sent, retryAt: nil,
                                   replyCode: 250, reply: "ok")
        let answers = try await withThrowingTaskGroup(of: (Int64, Bool).self) { group in
            for id in Int64(1)...Int64(12) {
                group.addTask { (id, try await recorder.record(CompletedAttempt(deliveryId: id, attempt: record))) }
            }
            return try await group.reduce(into: [Int64: Bool]()) { $0[$1.0] = $1.1 }
        }
        #expect(answers.count == 12)
        #expect(answers.allSatisfy { $0.value == ($0.key % 2 == 0) }, "every lane gets the answer for its own id")
        let written = batches.withLock { $0 }
        #expect(written.flatMap { $0 }.sorted() == Array(1...12), "every result written exactly once")
        #expect(written.count < 12, "results were grouped: \(written)")
    }

    @Test("group commit: a failed write fails every result in it, and the next write still happens")
    func groupCommitFailure() async throws {
        struct Down: Error {}
        let calls = Atomic<Int>(0)
        let recorder = AttemptRecorder { completed in
            if calls.add(1, ordering: .relaxed).newValue == 1 { throw Down() }
            return completed.map { _ in true }
        }
        let record = AttemptRecord(startedAt: Self.t0, finishedAt: Self.t0, nextState: .sent, retryAt: nil,
                                   replyCode: 250, reply: "ok")
        await #expect(throws: Down.self) { try await recorder.record(CompletedAttempt(deliveryId: 1, attempt: record)) }
        #expect(try await recorder.record(CompletedAttempt(deliveryId: 2, attempt: record)))
    }

    @Test("a pass claims the next batch while the last one's tail is in flight; every delivery goes out once")
    func pipelinedBatches() async throws {
        let dir = try TestEnvironment.temporaryDirectory("pipeline")
        let store = try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path)
        let intake = TestStores.intake(store)
        try await TestStores.submitAll(try EventEditing.orders(24, confirmedAt: "2026-11-29T10:00:00+01:00"), to: intake)
        let due = try await store.countsByState()[.scheduled] ?? 0
        #expect(due >= 24)
        let transport = SlowRecordingTransport(concurrency: 3, delay: .milliseconds(100))
        let worker = try TestStores.worker(store, transport: transport, owner: "pipe")
        let summary = try await worker.runPass(clock: FixedClock(Self.t0 + 86_400 * 3), batchSize: 4)
        #expect(summary.sent == due && summary.lost == 0)
        let log = transport.log.withLock { $0 }
        #expect(log.messageIDs.count == due && Set(log.messageIDs).count == due, "each delivery sent exactly once")
        // Never more sends than connections. (That the next batch is claimed while this
        // one is in flight is shown on gated connections by "claimed ahead" below; how
        // much it gains is a matter for `make bench`, not for a test on the wall clock.)
        #expect(log.maxInFlight <= 3 && log.maxInFlight >= 1)
    }

    /// Waits (polling) until `condition` holds, up to `seconds`.
    static func eventually(_ seconds: Double = 10, _ condition: () -> Bool) async throws -> Bool {
        let deadline = ContinuousClock.now + .seconds(seconds)
        while !condition() {
            if ContinuousClock.now > deadline { return false }
            try await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    /// Twelve due notices (two administrators per order) in a claim-counting
    /// SQLite store, and a worker on two gated connections.
    static func gatedPass(_ label: String, free: Int = 0) async throws -> (ClaimCountingStore, GatedTransport, DeliveryWorker) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        let store = ClaimCountingStore(try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path))
        try await TestStores.submitAll(try EventEditing.orders(6, adminNoticeOnly: true), to: TestStores.intake(store.base))
        let transport = GatedTransport(concurrency: 2, free: free)
        return (store, transport, try TestStores.worker(store, transport: transport, owner: "ahead"))
    }

    @Test("while every connection is busy, the rest of the batch waits composed and the next batches are claimed ahead")
    func nextBatchClaimedAhead() async throws {
        let (store, transport, worker) = try await Self.gatedPass("prefetch")
        let pass = Task { try await worker.runPass(clock: FixedClock(Self.t0 + 86_400 * 3), batchSize: 4) }
        // Both connections hold a message and none finishes until the gate opens.
        // Meanwhile the other two of the first batch are in flight waiting for a
        // connection (twice as many deliveries as connections), so the pass
        // takes the second batch, and claims the third ahead of need.
        #expect(try await Self.eventually { transport.started == 2 })
        let claimedAhead = try await Self.eventually(5) { store.claims == 3 }
        #expect(claimedAhead, "claims while both connections are busy: \(store.claims)")
        #expect(transport.started == 2, "sends stay at the connection count")
        transport.open()
        let summary = try await pass.value
        #expect(summary.sent == 12 && summary.lost == 0, "\(summary)")
        #expect(store.claims == 3 && store.claimed == 12, "\(store.claims) claims, \(store.claimed) claimed")
        let states = try await store.countsByState()
        #expect(states == [.sent: 12], "\(states)")
    }

    @Test("stopping with a batch claimed ahead counts it as not started and gives it back")
    func stopWithBatchClaimedAhead() async throws {
        let (store, transport, worker) = try await Self.gatedPass("prefetch-stop")
        let stop = Atomic<Bool>(false)
        let pass = Task {
            try await worker.runPass(clock: FixedClock(Self.t0 + 86_400 * 3), batchSize: 4,
                                     shouldStop: { stop.load(ordering: .acquiring) })
        }
        #expect(try await Self.eventually { transport.started == 2 && store.claims == 3 })
        stop.store(true, ordering: .releasing)
        transport.open()
        let summary = try await pass.value
        // In flight at the stop: the first batch and the second's first (taken
        // from its batch before the pass waited for room); they go out. The
        // second's other three and the four claimed ahead were never started.
        #expect(summary.sent == 5 && summary.lost == 7, "\(summary)")
        let states = try await store.countsByState()
        #expect(states == [.sent: 5, .scheduled: 7], "\(states)")
    }

    @Test("a claim that fails while attempts are in flight ends the pass only after they have recorded their results (none is left 'sending' to be sent again at its lease)")
    func failedClaimLetsAttemptsFinish() async throws {
        // Batches of 4 out of 12: the first nine sends go through, the last three
        // of the third batch are held; the fourth claim fails.
        let (store, transport, worker) = try await Self.gatedPass("claim-fails", free: 9)
        store.setDown(afterClaims: 3)
        let pass = Task { try await worker.runPass(clock: FixedClock(Self.t0 + 86_400 * 3), batchSize: 4) }
        // Two held sends and one waiting for a connection when the claim fails.
        #expect(try await Self.eventually { store.failedClaims == 1 && transport.started == 11 },
                "claims \(store.claims), failed \(store.failedClaims), started \(transport.started)")
        transport.open()
        await #expect(throws: TestFailure.self) { try await pass.value }
        let states = try await store.countsByState()
        #expect(states == [.sent: 12], "\(states)")
    }

    @Test("under a trickle of due notices, passes that linger after a short claim claim them in groups")
    func trickleClaimedInGroups() async throws {
        /// 40 orders arriving as a trickle: while a pass lingers, `perLinger` more
        /// arrive (time passes by the test's step, not by the wall clock); between
        /// passes, one.
        func run(linger: Duration, perLinger: Int) async throws -> (claims: Int, claimed: Int) {
            let dir = try TestEnvironment.temporaryDirectory("trickle")
            let store = ClaimCountingStore(try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path))
            let intake = TestStores.intake(store.base)
            let orders = Mutex(try EventEditing.orders(40, adminNoticeOnly: true).split(separator: UInt8(ascii: "\n"))
                .map { Array($0) }[...])
            @Sendable func arrive(_ count: Int) async throws {
                for _ in 0..<count {
                    guard let line = orders.withLock({ $0.popFirst() }) else { return }
                    _ = try await intake.submit(line)
                }
            }
            let worker = try TestStores.worker(store, transport: SlowRecordingTransport(concurrency: 4, delay: .milliseconds(1)),
                                               owner: "trickle")
            let clock = FixedClock(Self.t0 + 86_400 * 3)
            while !orders.withLock({ $0.isEmpty }) {
                try await arrive(1)
                _ = try await worker.runPass(clock: clock, trickleLinger: linger, linger: { _ in try await arrive(perLinger) })
            }
            let states = try await store.countsByState()
            let total = states.values.reduce(0, +)
            #expect(store.claimed == total && states[.sent] == total, "\(states), \(store.claimed) claimed")
            return (store.claims, store.claimed)
        }
        let lingering = try await run(linger: .milliseconds(50), perLinger: 9)
        let eager = try await run(linger: .zero, perLinger: 9)
        // Lingering: the first arrival, then groups of 9, then an empty claim: 6 claims.
        #expect(lingering.claims <= 8, "\(lingering.claims) claims for \(lingering.claimed) deliveries")
        // Without lingering each arrival is a pass of its own: a claim and an empty one.
        #expect(eager.claims >= 40, "without lingering: \(eager.claims) claims, with: \(lingering.claims)")
    }
}

/// A transport that takes its time (`delay` to twice that), counts what is in
/// flight and keeps each message's Message-ID.
final class SlowRecordingTransport: MailTransport {
    struct Log {
        var messageIDs: [String] = []
        var inFlight = 0
        var maxInFlight = 0
        var started = 0
        var idleGapsMidPass = 0
    }
    let log = Mutex(Log())
    let concurrency: Int
    let delay: Duration

    init(concurrency: Int, delay: Duration) {
        self.concurrency = concurrency
        self.delay = delay
    }

    func send(_ message: [UInt8], envelope: Envelope) async -> TransportOutcome {
        let text = String(decoding: message, as: UTF8.self)
        let id = text.split(separator: "\r\n").first { $0.hasPrefix("Message-ID: ") }.map(String.init) ?? ""
        let index = log.withLock { log in
            if log.inFlight == 0 && log.started > 0 { log.idleGapsMidPass += 1 }
            log.inFlight += 1
            log.started += 1
            log.maxInFlight = max(log.maxInFlight, log.inFlight)
            log.messageIDs.append(id)
            return log.started
        }
        // Staggered, so that sends do not all end at the same instant.
        try? await Task.sleep(for: delay * (1 + Double(index % 3) / 2))
        log.withLock { $0.inFlight -= 1 }
        return .accepted(code: 250, reply: "250 ok")
    }
}

/// A transport whose sends wait until the test opens the gate (all but the
/// first `free` ones).
final class GatedTransport: MailTransport {
    private struct State {
        var open = false
        var waiting: [CheckedContinuation<Void, Never>] = []
        var started = 0
    }
    private let state = Mutex(State())
    let concurrency: Int
    let free: Int

    init(concurrency: Int, free: Int = 0) {
        self.concurrency = concurrency
        self.free = free
    }

    var started: Int { state.withLock { $0.started } }

    func open() {
        let waiting = state.withLock { state in
            state.open = true
            defer { state.waiting = [] }
            return state.waiting
        }
        waiting.forEach { $0.resume() }
    }

    func send(_ message: [UInt8], envelope: Envelope) async -> TransportOutcome {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let go = state.withLock { state in
                state.started += 1
                if state.open || state.started <= free { return true }
                state.waiting.append(continuation)
                return false
            }
            if go { continuation.resume() }
        }
        return .accepted(code: 250, reply: "250 ok")
    }
}
