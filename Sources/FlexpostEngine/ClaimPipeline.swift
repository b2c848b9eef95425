import FlexpostCore
import Foundation

/// One claim's deliveries and their orders, read together.
struct ClaimedBatch: Sendable {
    var deliveries: [Delivery]
    var orders: [String: StoredOrder]
    var claimedAt: Date
    /// How many the claim asked for: fewer means the queue had no more due.
    var asked: Int
}

/// The claims of one delivery pass, a batch at a time: the next full batch is
/// claimed (and its orders read) while this one is being sent, so that the
/// connections do not idle between batches. A short batch means the queue is
/// drained or trickling: nothing is claimed ahead, and the next claim waits
/// `trickleLinger` so that a trickle is claimed in groups.
struct ClaimPipeline {
    let fetch: @Sendable (_ limit: Int) async throws -> ClaimedBatch
    let batchSize: Int
    /// The pass's limit (`drain --limit`), nil for none.
    let limit: Int?
    let trickleLinger: Duration
    /// Waits the linger (injected: tests let time pass by a step of their own).
    let linger: @Sendable (Duration) async throws -> Void
    let shouldStop: @Sendable () -> Bool
    /// How many deliveries the pass has claimed.
    private(set) var taken = 0
    private var lastClaimShort = false
    private var ahead: Task<ClaimedBatch, any Error>?

    init(batchSize: Int, limit: Int?, trickleLinger: Duration,
         linger: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
         shouldStop: @escaping @Sendable () -> Bool, fetch: @escaping @Sendable (Int) async throws -> ClaimedBatch) {
        self.fetch = fetch
        self.batchSize = batchSize
        self.limit = limit
        self.trickleLinger = trickleLinger
        self.linger = linger
        self.shouldStop = shouldStop
    }

    /// How many the next claim asks for; nil once the pass has its limit or is stopping.
    func nextClaimSize() -> Int? {
        let remaining = limit.map { $0 - taken } ?? batchSize
        return remaining > 0 && !shouldStop() ? min(batchSize, remaining) : nil
    }

    /// The next batch; nil when nothing more is due, the pass has its limit, or it is stopping.
    mutating func next() async throws -> ClaimedBatch? {
        let next: ClaimedBatch
        if let pending = ahead {
            ahead = nil
            next = try await pending.value
        } else {
            guard let size = nextClaimSize() else { return nil }
            if lastClaimShort && trickleLinger > .zero {
                try await linger(trickleLinger)
            }
            next = try await fetch(size)
        }
        if next.deliveries.isEmpty { return nil }
        lastClaimShort = next.deliveries.count < next.asked
        taken += next.deliveries.count
        if !lastClaimShort, let size = nextClaimSize() {
            let fetch = self.fetch
            ahead = Task { try await fetch(size) }
        }
        return next
    }

    /// The pass failed: a batch claimed ahead is left to its lease.
    func abandon() { ahead?.cancel() }

    /// The pass ended: how many deliveries a batch claimed ahead holds (never
    /// started: the pass was stopping). Their claims are released with the rest.
    mutating func unstarted() async -> Int {
        guard let pending = ahead else { return 0 }
        ahead = nil
        return (try? await pending.value)?.deliveries.count ?? 0
    }
}
