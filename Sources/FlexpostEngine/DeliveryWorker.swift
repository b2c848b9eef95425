import FlexpostCore
import Foundation
import Logging
import Metrics
import Synchronization

/// Counts of one delivery pass, for `drain`'s summary and exit status.
public struct PassSummary: Sendable, Equatable {
    public var sent = 0
    public var retrying = 0
    public var dead = 0
    public var lost = 0  // claims taken over by another worker meanwhile
    /// Claimed, then given back unstarted because a hold began (SPEC §8).
    public var held = 0

    public var claimed: Int { sent + retrying + dead + lost + held }
    public init() {}

    mutating func count(_ state: DeliveryState?) {
        switch state {
        case .sent: sent += 1
        case .retrying: retrying += 1
        case .dead: dead += 1
        default: lost += 1
        }
    }
}

/// Claims due deliveries, renders each one and hands it to the transport,
/// and records how every attempt ended (SPEC §5).
public struct DeliveryWorker: Sendable {
    let store: any QueueStore
    let transport: any MailTransport
    let composer: MailComposer
    let sealer: SecretSealer
    let retryPolicy: RetryPolicy
    let leaseSeconds: TimeInterval
    let owner: String
    let logger: Logger
    /// SPEC §6: with `FLEXPOST_BOUNCE_ADDRESS`, each delivery's envelope sender names it (VERP).
    let returnPath: ReturnPath?

    public init(store: any QueueStore, transport: any MailTransport, composer: MailComposer, sealer: SecretSealer,
                retryPolicy: RetryPolicy, leaseSeconds: TimeInterval, owner: String, logger: Logger,
                returnPath: ReturnPath? = nil) {
        self.returnPath = returnPath
        self.store = store
        self.transport = transport
        self.composer = composer
        self.sealer = sealer
        self.retryPolicy = retryPolicy
        self.leaseSeconds = leaseSeconds
        self.owner = owner
        self.logger = logger
    }

    /// Delivers everything due at `clock.now()`, up to `limit` deliveries.
    /// Claims a batch at a time (the next one as soon as the last one is all
    /// started) and reads the batch's orders in one go; up to
    /// the transport's concurrency (the SMTP connection pool) deliveries are
    /// in flight at once, and their results are recorded by group commit.
    /// - Parameter shouldStop: checked between deliveries (graceful shutdown).
    /// - Parameter trickleLinger: when a claim found fewer due deliveries than
    ///   it asked for, the next one waits this long. Under a steady trickle
    ///   (`serve` while its intake stores notices) deliveries are then claimed
    ///   a few at a time instead of one write transaction each; `drain` finds
    ///   full batches and passes zero.
    public func runPass(clock: any WallClock, limit: Int? = nil, batchSize: Int = 50,
                        trickleLinger: Duration = .zero,
                        linger: @escaping @Sendable (Duration) async throws -> Void = { try await Task.sleep(for: $0) },
                        shouldStop: @escaping @Sendable () -> Bool = { false },
                        progress: (PassSummary) -> Void = { _ in }) async throws -> PassSummary {
        var summary = PassSummary()
        let owner = self.owner, leaseSeconds = self.leaseSeconds
        // Every store call of the pass is bounded; a claim, read or renewal the
        // store does not answer is given up at a graceful stop (within 250 ms)
        // instead of holding the stop until its deadline. Records never are.
        let store = DeadlineStore(self.store, StoreDeadlines(seconds: storeDeadline, abandonIf: shouldStop))
        let recorder = AttemptRecorder { [self] completed in
            try await recordWithRetry { try await store.complete(completed, owner: owner) }
        }
        // Twice as many deliveries in flight as connections: while one waits for
        // its result's group commit, or for a connection, the next is composed
        // and ready, so no connection idles between messages. Sends stay at the
        // connection count.
        let lanes = max(1, transport.concurrency)
        let permits = SendPermits(lanes)
        var claims = ClaimPipeline(batchSize: batchSize, limit: limit, trickleLinger: trickleLinger, linger: linger,
                                   shouldStop: shouldStop) { size in
            let now = clock.now()
            let claimed = try await store.claimDue(
                at: now, limit: size, lease: Lease(owner: owner, expiresAt: now.addingTimeInterval(leaseSeconds)))
            if claimed.isEmpty { return ClaimedBatch(deliveries: [], orders: [:], claimedAt: now, asked: size) }
            let orderIds = Set(claimed.map(\.orderId))
            let orders = try await store.storedOrders(orderIds)
            return ClaimedBatch(deliveries: claimed, orders: orders, claimedAt: now, asked: size)
        }
        var lease = LeaseKeeper(leaseSeconds: leaseSeconds) { until in
            try await store.renewClaims(owner: owner, until: until)
        }
        var holds = HoldWatch { try await store.holds() }
        var stopped = false
        // A claim, read or renewal that failed: the pass claims no more, lets the
        // attempts in flight finish and record their results (a mail handed to
        // the relay and left unrecorded would go out again at its lease), then
        // fails with it.
        var storeFailure: (any Error)?
        do {
            try await withThrowingTaskGroup(of: DeliveryState?.self) { group in
                var inFlight = 0
                var batch: ArraySlice<Delivery> = []
                var orders: [String: StoredOrder] = [:]
                while true {
                    if batch.isEmpty {
                        let next: ClaimedBatch?
                        do {
                            next = try await claims.next()
                        } catch {
                            _ = try Self.interrupted(by: error, stopped: &stopped, failure: &storeFailure)
                            break
                        }
                        guard let next else { break }
                        orders = next.orders
                        lease.claimed(next, idle: inFlight == 0)
                        batch = next.deliveries[...]
                    }
                    if shouldStop() {
                        stopped = true
                        summary.lost += batch.count
                        break
                    }
                    do {
                        // What a hold taken meanwhile covers is given back held, not sent.
                        let covered = try await holds.covered(batch)
                        if !covered.isEmpty {
                            let ids = Set(covered.map(\.id))
                            batch.removeAll { ids.contains($0.id) }
                            try await store.holdClaims(covered.map(\.id), owner: owner,
                                                       note: HoldRules.claimGivenBack(at: clock.now()))
                            summary.held += covered.count
                            progress(summary)
                            if batch.isEmpty { continue }
                        }
                    } catch {
                        if try Self.interrupted(by: error, stopped: &stopped, failure: &storeFailure) {
                            summary.lost += batch.count
                        }
                        break
                    }
                    let delivery = batch.removeFirst()
                    if inFlight == lanes * 2, let finished = try await group.next() {
                        inFlight -= 1
                        summary.count(finished)
                        progress(summary)
                    }
                    do {
                        try await lease.renewIfDue(at: clock.now())
                    } catch {
                        // This delivery and the rest of the batch are not started.
                        if try Self.interrupted(by: error, stopped: &stopped, failure: &storeFailure) {
                            summary.lost += batch.count + 1
                        }
                        break
                    }
                    guard lease.start(delivery.id) else {
                        summary.lost += 1
                        continue
                    }
                    let order = orders[delivery.orderId]
                    group.addTask {
                        try await deliver(delivery, order: order, clock: clock, recorder: recorder, permits: permits)
                    }
                    inFlight += 1
                }
                while let finished = try await group.next() {
                    summary.count(finished)
                    progress(summary)
                }
                if let storeFailure { throw storeFailure }
            }
        } catch {
            // A batch claimed ahead when a pass fails is taken again when its
            // lease runs out, like the pass's own unfinished claims.
            claims.abandon()
            throw error
        }
        let unstarted = await claims.unstarted()
        if unstarted > 0 {
            // Stopped with a batch claimed ahead: it was never started.
            summary.lost += unstarted
            stopped = true
        }
        if stopped {
            // In-flight attempts are recorded; what was not started is given back
            // (briefly: a store that does not answer now lets the leases run out).
            try await store.releaseClaims(owner: owner)
        }
        return summary
    }

    /// How long one store call may take before the worker gives up on it.
    var storeDeadline: Double { max(10, leaseSeconds / 2) }

    /// A claim, read or renewal that did not answer ends the pass's claiming;
    /// the attempts in flight still finish and record their results. Given up
    /// at a graceful stop (true): what that call claimed after all is released
    /// at the pass's end if the store answers by then, else at its lease. Failed:
    /// the pass fails with the error once the attempts in flight are recorded.
    static func interrupted(by error: any Error, stopped: inout Bool, failure: inout (any Error)?) throws -> Bool {
        if error is CancellationError { throw error }
        if error is StoreCallAbandoned {
            stopped = true
            return true
        }
        failure = error
        return false
    }
}
