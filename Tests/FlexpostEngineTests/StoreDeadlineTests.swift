import Foundation
import Synchronization
import Testing

@testable import FlexpostCore
@testable import FlexpostStore
@testable import FlexpostTestSupport

/// A worker never freezes on its store: the deadline holds even when the
/// store call ignores cancellation (as a driver stuck on a dead connection does).
@Suite("store deadline", .serialized)
struct StoreDeadlineTests {
    @Test("a call that ignores cancellation is abandoned at the deadline; a quick one returns its value")
    func deadline() async throws {
        let start = ContinuousClock.now
        await #expect(throws: StoreTimeout.self) {
            try await withStoreDeadline(0.3, "a stuck call") {
                // Resumes only after 5 s, whatever cancellation says.
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 5) { c.resume() }
                }
                return 1
            }
        }
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(try await withStoreDeadline(5, "a quick call") { 42 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { try await withStoreDeadline(5, "a failing call") { throw Failure() } }
    }

    @Test("withDeadline (a request body's wait): nil once the time passed, the wait abandoned; the value otherwise")
    func plainDeadline() async throws {
        let start = ContinuousClock.now
        let late: Int? = try await withDeadline(0.3) {
            await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                DispatchQueue.global().asyncAfter(deadline: .now() + 5) { c.resume() }
            }
            return 1
        }
        #expect(late == nil)
        #expect(ContinuousClock.now - start < .seconds(3))
        #expect(try await withDeadline(5) { 42 } == 42)
        struct Failure: Error {}
        await #expect(throws: Failure.self) { _ = try await withDeadline(5) { () async throws -> Int in throw Failure() } }
    }

    @Test("a call waiting on a stuck store is given up once its caller stops, long before its deadline; a quick one is unaffected")
    func abandonedAtStop() async throws {
        let stopping = Atomic<Bool>(false)
        let start = ContinuousClock.now
        DispatchQueue.global().asyncAfter(deadline: .now() + 0.3) { stopping.store(true, ordering: .releasing) }
        await #expect(throws: StoreCallAbandoned.self) {
            try await withStoreDeadline(60, "a claim", abandonIf: { stopping.load(ordering: .acquiring) }) {
                await withCheckedContinuation { (c: CheckedContinuation<Void, Never>) in
                    DispatchQueue.global().asyncAfter(deadline: .now() + 5) { c.resume() }
                }
                return 1
            }
        }
        #expect(ContinuousClock.now - start < .seconds(2))
        #expect(try await withStoreDeadline(60, "a quick call", abandonIf: { false }) { 7 } == 7)
    }

    @Test("finished calls leave nothing behind: no pending deadline, however long the deadline")
    func nothingLeftBehind() async throws {
        let before = DeadlineWatch.shared.pending
        for index in 0..<2_000 {
            #expect(try await withStoreDeadline(120, "a quick call") { index } == index)
        }
        #expect(DeadlineWatch.shared.pending <= before)
    }

    @Test("DeadlineStore on a real SQLite store whose writer is stuck: an intake and a record time out at the deadline, a claim is given up at a stop, a release within its own shorter bound; reads still answer")
    func deadlineStore() async throws {
        let dir = try TestEnvironment.temporaryDirectory("deadline-store")
        let store = try SQLiteQueueStore(path: dir.appendingPathComponent("queue.sqlite").path)
        _ = try await TestStores.intake(store).submit(StoreConformance.fixture("order-second-site.json"))
        // Another writer holds the database, as a stuck process would.
        let release = Atomic<Bool>(false), holding = Atomic<Bool>(false)
        store.pool.asyncWriteWithoutTransaction { _ in
            holding.store(true, ordering: .releasing)
            while !release.load(ordering: .acquiring) { usleep(1_000) }
        }
        defer { release.store(true, ordering: .releasing) }
        try await waitUntil("the writer is held") { holding.load(ordering: .acquiring) }

        let stopping = Atomic<Bool>(false)
        let bounded = DeadlineStore(store, StoreDeadlines(seconds: 0.5, abandonIf: { stopping.load(ordering: .acquiring) }))
        func elapsed(_ body: () async throws -> Void) async -> (error: (any Error)?, seconds: Double) {
            let start = ContinuousClock.now
            do { try await body() } catch { return (error, (ContinuousClock.now - start) / .seconds(1)) }
            return (nil, (ContinuousClock.now - start) / .seconds(1))
        }
        // An intake through the layer: StoreTimeout at the deadline, not when the writer is free.
        let intake = await elapsed { _ = try await TestStores.intake(bounded).submit(
            StoreConformance.fixture("order-new-customer.json")) }
        #expect(intake.error is StoreTimeout && (intake.error as? StoreTimeout)?.operation == "an intake")
        #expect(intake.seconds >= 0.5 && intake.seconds < 3)
        // Reads do not wait for the writer (WAL): the layer returns their answer.
        #expect(try await bounded.deliveries(orderId: "ORD-2026-004711").count == 2)

        // At a stop, a claim is given up at once (well before a long deadline)...
        stopping.store(true, ordering: .releasing)
        let patient = DeadlineStore(bounded, StoreDeadlines(seconds: 30, abandonIf: { stopping.load(ordering: .acquiring) }))
        #expect(patient.base is SQLiteQueueStore, "a second layer replaces the first")
        let now = StoreConformance.t0
        let claim = await elapsed {
            _ = try await patient.claimDue(at: now, limit: 5, lease: Lease(owner: "w", expiresAt: now.addingTimeInterval(60)))
        }
        #expect(claim.error is StoreCallAbandoned && claim.seconds < 3)
        // ...a record never is: it waits for its deadline.
        let record = await elapsed {
            _ = try await bounded.complete(deliveryId: 1, owner: "w", attempt: AttemptRecord(
                startedAt: now, finishedAt: now, nextState: .sent, retryAt: nil, replyCode: 250, reply: "ok"))
        }
        #expect(record.error is StoreTimeout && record.seconds >= 0.5)
        // Giving claims back is bounded by its own shorter limit, whatever the deadline.
        let giveBack = await elapsed { try await patient.releaseClaims(owner: "w") }
        #expect(giveBack.error is StoreTimeout && giveBack.seconds >= StoreDeadlines.releaseSeconds && giveBack.seconds < 10)

        // Once the writer is free, the abandoned intake is stored after all: the sender's retry is a duplicate.
        release.store(true, ordering: .releasing)
        try await waitUntil("the timed-out intake is written") { try await store.storedOrder("ORD-2026-004800") != nil }
        #expect(try await TestStores.intake(bounded).submit(StoreConformance.fixture("order-new-customer.json")).line
                    .hasPrefix("duplicate"))
    }
}
