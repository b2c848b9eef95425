import Foundation
import Synchronization
import Testing

@testable import FlexpostCore

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
}
