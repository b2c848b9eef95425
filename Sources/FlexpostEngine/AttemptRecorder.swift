import FlexpostCore
import Synchronization

/// Group commit for attempt results. Every delivery lane waits until its own
/// result is durable before it takes the next message, as with one
/// transaction per message, but results that arrive while a transaction is
/// being written go into the next one together: one commit (one fsync)
/// serves several lanes.
///
/// The lane that finds no write in progress leads: it writes its own result
/// and whatever queued behind it, then hands the lead to the next waiting
/// lane, so no lane is kept writing for the others indefinitely.
final class AttemptRecorder: Sendable {
    typealias Write = @Sendable ([CompletedAttempt]) async throws -> [Bool]

    private enum Ticket: Sendable {
        case recorded(Bool)
        case lead
    }

    private struct Waiting {
        let completed: CompletedAttempt
        let continuation: CheckedContinuation<Ticket, any Error>
    }

    private struct State {
        var writing = false
        var queue: [Waiting] = []
    }

    private let state = Mutex(State())
    private let write: Write

    init(write: @escaping Write) {
        self.write = write
    }

    /// Records one result; returns whether the claim was still held.
    func record(_ completed: CompletedAttempt) async throws -> Bool {
        let ticket: Ticket = try await withCheckedThrowingContinuation { continuation in
            let leads = state.withLock { state in
                if state.writing {
                    state.queue.append(Waiting(completed: completed, continuation: continuation))
                    return false
                }
                state.writing = true
                return true
            }
            if leads { continuation.resume(returning: .lead) }
        }
        switch ticket {
        case .recorded(let held): return held
        case .lead: return try await lead(completed)
        }
    }

    private func lead(_ own: CompletedAttempt) async throws -> Bool {
        let followers = state.withLock { state in
            defer { state.queue.removeAll(keepingCapacity: true) }
            return state.queue
        }
        let result: Result<[Bool], any Error>
        do {
            result = .success(try await write([own] + followers.map(\.completed)))
        } catch {
            result = .failure(error)
        }
        // Hand the lead on to the first lane that queued meanwhile, or stop writing.
        let next = state.withLock { state -> Waiting? in
            if state.queue.isEmpty {
                state.writing = false
                return nil
            }
            return state.queue.removeFirst()
        }
        next?.continuation.resume(returning: .lead)
        switch result {
        case .success(let held):
            for (index, follower) in followers.enumerated() {
                follower.continuation.resume(returning: .recorded(held[index + 1]))
            }
            return held[0]
        case .failure(let error):
            for follower in followers { follower.continuation.resume(throwing: error) }
            throw error
        }
    }
}
