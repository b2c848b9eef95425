import Foundation
import Synchronization

/// A store call that did not answer in time.
public struct StoreTimeout: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public init(operation: String) { self.operation = operation }

    /// How long a store call made for a request (a webhook, a support page)
    /// may take: webhook senders commonly give up after 10–30 s.
    public static let requestSeconds: Double = 10
    public var description: String { "the queue store did not answer \(operation) in time" }
}

/// A store call given up because its caller is stopping (a graceful shutdown
/// while the store does not answer): the caller goes on as if it had not
/// asked; whatever the call does later is the store's to finish or roll back.
public struct StoreCallAbandoned: Error, CustomStringConvertible, Sendable {
    public let operation: String
    public init(operation: String) { self.operation = operation }
    public var description: String { "\(operation) was given up: stopping" }
}

/// Runs a store call with a deadline that holds even when the call ignores
/// cancellation (a driver stuck on a dead connection): the caller is
/// resumed with ``StoreTimeout`` and the call is cancelled and abandoned,
/// so a worker never freezes on its store, and an HTTP request is answered.
/// - Parameter abandonIf: looked at while the call waits (every 250 ms); once
///   true, the caller is resumed with ``StoreCallAbandoned``.
@inlinable
public func withStoreDeadline<T: Sendable>(
    _ seconds: Double, _ operation: String, abandonIf: (@Sendable () -> Bool)? = nil,
    _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    try await withStoreDeadline(seconds, operation, abandonIf: abandonIf) { (answer: StoreAnswer<T>) in
        let work = Task {
            do { answer.deliver(.success(try await body())) } catch { answer.deliver(.failure(error)) }
        }
        return { work.cancel() }
    }
}

/// The same watchdog for a wait that is not a store call (a request body
/// that trickles in): `body` runs in a task of its own; nil when `seconds`
/// passed first, and `body` is then cancelled and abandoned.
public func withDeadline<T: Sendable>(_ seconds: Double, _ body: @escaping @Sendable () async throws -> T)
    async throws -> T?
{
    do {
        return try await withStoreDeadline(seconds, "a wait", body)
    } catch is StoreTimeout {
        return nil
    }
}

/// The same deadline for a call that answers through a callback: no task is
/// started for it. `start` hands the call its ``StoreAnswer`` and returns
/// what to do if the deadline passes first.
/// An answer after the deadline is dropped; the call itself may still finish.
@inlinable
public func withStoreDeadline<T: Sendable>(
    _ seconds: Double, _ operation: String, abandonIf: (@Sendable () -> Bool)? = nil,
    handing start: (StoreAnswer<T>) -> @Sendable () -> Void
) async throws -> T {
    let outcome = Outcome<T>()
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            outcome.install(continuation)
            let abandon = start(StoreAnswer(outcome: outcome))
            let watched = DeadlineWatch.shared.add(deadline: .now + .seconds(seconds), abandonIf: abandonIf) { stopping in
                let error: any Error =
                    stopping ? StoreCallAbandoned(operation: operation) : StoreTimeout(operation: operation)
                if outcome.finish(.failure(error)) { abandon() }
            }
            outcome.onFinish { DeadlineWatch.shared.remove(watched) }
        }
    } onCancel: {
        outcome.finish(.failure(CancellationError()))
    }
}

/// Where a store call started by ``withStoreDeadline(_:_:handing:)`` delivers
/// its result; only the first of the result, the deadline and the caller's
/// cancellation reaches the caller.
public struct StoreAnswer<T: Sendable>: Sendable {
    @usableFromInline let outcome: Outcome<T>

    @usableFromInline init(outcome: Outcome<T>) { self.outcome = outcome }

    @inlinable public func deliver(_ result: Result<T, any Error>) { outcome.finish(result) }
}

/// One watchdog for every store deadline of the process, instead of a sleeping
/// timer task per call: a cancelled `Task.sleep` keeps its timer (and the
/// task's memory) until the original wake-up time, so a timer per call held
/// about 300 bytes per store call for the whole deadline (10 s or more) —
/// tens of MiB during a fast drain (seen with heaptrack). The watchdog looks
/// at the deadlines four times a second and runs only while any is pending.
@usableFromInline
final class DeadlineWatch: Sendable {
    @usableFromInline static let shared = DeadlineWatch()
    static let tick = Duration.milliseconds(250)

    private struct Entry {
        let deadline: ContinuousClock.Instant
        let abandonIf: (@Sendable () -> Bool)?
        /// Called with true when `abandonIf` ended the wait, false at the deadline.
        let expire: @Sendable (Bool) -> Void
    }

    private struct State {
        var next: UInt64 = 0
        var entries: [UInt64: Entry] = [:]
        var watching = false
    }

    private let state = Mutex(State())

    /// How many deadlines are pending (for tests).
    var pending: Int { state.withLock { $0.entries.count } }

    @usableFromInline func add(deadline: ContinuousClock.Instant, abandonIf: (@Sendable () -> Bool)? = nil,
                               expire: @escaping @Sendable (Bool) -> Void) -> UInt64 {
        let (id, startWatching) = state.withLock { state in
            state.next += 1
            state.entries[state.next] = Entry(deadline: deadline, abandonIf: abandonIf, expire: expire)
            defer { state.watching = true }
            return (state.next, !state.watching)
        }
        if startWatching {
            Task.detached { await self.watch() }
        }
        return id
    }

    @usableFromInline func remove(_ id: UInt64) {
        _ = state.withLock { $0.entries.removeValue(forKey: id) }
    }

    private func watch() async {
        while true {
            try? await Task.sleep(for: Self.tick)
            let now = ContinuousClock.now
            let (expired, more) = state.withLock { state in
                var expired: [(@Sendable (Bool) -> Void, Bool)] = []
                for (id, entry) in state.entries {
                    let stopping = entry.abandonIf?() ?? false
                    guard stopping || entry.deadline <= now else { continue }
                    state.entries.removeValue(forKey: id)
                    expired.append((entry.expire, stopping))
                }
                if state.entries.isEmpty { state.watching = false }
                return (expired, !state.entries.isEmpty)
            }
            for (expire, stopping) in expired { expire(stopping) }
            if !more { return }
        }
    }
}

@usableFromInline
final class Outcome<T: Sendable>: Sendable {
    @usableFromInline struct State {
        @usableFromInline var continuation: CheckedContinuation<T, any Error>?
        @usableFromInline var early: Result<T, any Error>?
        @usableFromInline var done = false
        @usableFromInline var cleanup: (@Sendable () -> Void)?
        @usableFromInline init() {}
    }
    @usableFromInline let state = Mutex(State())

    @inlinable init() {}

    @inlinable func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early: Result<T, any Error>? = state.withLock { state in
            if let early = state.early { return early }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    @inlinable func onFinish(_ cleanup: @escaping @Sendable () -> Void) {
        let already = state.withLock { state in
            if state.done { return true }
            state.cleanup = cleanup
            return false
        }
        if already { cleanup() }
    }

    /// true if this call delivered the result.
    @discardableResult
    @inlinable func finish(_ result: Result<T, any Error>) -> Bool {
        let (continuation, cleanup, won): (CheckedContinuation<T, any Error>?, (@Sendable () -> Void)?, Bool) =
            state.withLock { state in
                guard !state.done else { return (nil, nil, false) }
                state.done = true
                if state.continuation == nil { state.early = result }
                let c = state.continuation
                state.continuation = nil
                return (c, state.cleanup, true)
            }
        cleanup?()  // before the caller goes on: its deadline is gone when it resumes
        continuation?.resume(with: result)
        return won
    }
}
