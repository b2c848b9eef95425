import Synchronization

/// Rung by `serve`'s intake (and a resend) when it has just stored a delivery
/// that is due now, so the delivery loop starts a pass at once instead of at
/// its next poll. Rings while a pass is running are kept (one is enough) and
/// end the next wait at once. The poll stays: it finds what other processes
/// (`enqueue`, another `serve`) stored and retries that came due.
public final class DeliveryDoorbell: Sendable {
    private struct State {
        var rung = false
        var waiter: CheckedContinuation<Void, Never>?
        var waitEnded = false
    }

    private let state = Mutex(State())

    public init() {}

    public func ring() {
        let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
            if let waiter = state.waiter {
                state.waiter = nil
                return waiter
            }
            state.rung = true
            return nil
        }
        waiter?.resume()
    }

    /// Returns when the bell rings (or had rung since the last wait), or after
    /// `timeout`, whichever is first; at once when the task is cancelled.
    /// One waiter at a time (the delivery loop).
    public func wait(upTo timeout: Duration) async {
        if state.withLock({ state in
            defer { state.rung = false }
            return state.rung
        }) { return }
        await withTaskGroup(of: Void.self) { group in
            group.addTask { try? await Task.sleep(for: timeout) }
            group.addTask { await self.rung() }
            await group.next()
            group.cancelAll()
        }
    }

    private func rung() async {
        state.withLock { $0.waitEnded = false }
        await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                let now = state.withLock { state -> Bool in
                    if state.rung || state.waitEnded {
                        state.rung = false
                        return true
                    }
                    state.waiter = continuation
                    return false
                }
                if now { continuation.resume() }
            }
        } onCancel: {
            // The timeout won (or the loop is stopping): stop waiting for a ring.
            let waiter = state.withLock { state -> CheckedContinuation<Void, Never>? in
                state.waitEnded = true
                defer { state.waiter = nil }
                return state.waiter
            }
            waiter?.resume()
        }
    }
}
