import Foundation
import Synchronization

/// A store call that did not answer in time.
public struct StoreTimeout: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public var description: String { "the queue store did not answer \(operation) in time" }
}

/// Runs a store call with a deadline that holds even when the call ignores
/// cancellation (a driver stuck on a dead connection): the caller is
/// resumed with ``StoreTimeout`` and the call is cancelled and abandoned,
/// so a worker never freezes on its store.
func withStoreDeadline<T: Sendable>(
    _ seconds: Double, _ operation: String, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let outcome = Outcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.install(continuation)
            let work = Task {
                do { outcome.finish(.success(try await body())) } catch { outcome.finish(.failure(error)) }
            }
            let timer = Task {
                try? await Task.sleep(for: .seconds(seconds))
                if outcome.finish(.failure(StoreTimeout(operation: operation))) { work.cancel() }
            }
            outcome.onFinish { timer.cancel() }
        }
    } onCancel: {
        outcome.finish(.failure(CancellationError()))
    }
}

/// Resumes a continuation exactly once, from whichever side finishes first.
private final class Outcome<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
        var cleanup: (@Sendable () -> Void)?
    }
    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let already = state.withLock { state in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if already { cleanup() }
    }

    /// true if this call delivered the result.
    @discardableResult
    func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, cleanup, won): (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Bool) =
            state.withLock { state in
                guard !state.done else { return (nil, nil, false) }
                state.done = true
                if state.continuation == nil { state.early = result }
                let c = state.continuation
                state.continuation = nil
                return (c, state.cleanup, true)
            }
        continuation?.resume(with: result)
        cleanup?()
        return won
    }
}
