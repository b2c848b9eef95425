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

    public var claimed: Int { sent + retrying + dead + lost }
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

/// One claim's deliveries and their orders, read together.
struct ClaimedBatch: Sendable {
    var deliveries: [Delivery]
    var orders: [String: StoredOrder]
    var claimedAt: Date
    /// How many the claim asked for: fewer means the queue had no more due.
    var asked: Int
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

    public init(store: any QueueStore, transport: any MailTransport, composer: MailComposer, sealer: SecretSealer,
                retryPolicy: RetryPolicy, leaseSeconds: TimeInterval, owner: String, logger: Logger) {
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
                        shouldStop: @escaping @Sendable () -> Bool = { false },
                        progress: (PassSummary) -> Void = { _ in }) async throws -> PassSummary {
        var summary = PassSummary()
        let store = self.store, owner = self.owner, leaseSeconds = self.leaseSeconds, deadline = storeDeadline
        let recorder = AttemptRecorder { [self] completed in
            try await recordWithRetry {
                try await withStoreDeadline(deadline, "an attempt record") {
                    try await store.complete(completed, owner: owner)
                }
            }
        }
        let lanes = max(1, transport.concurrency)
        // Twice as many deliveries in flight as connections: while one waits for
        // its result's group commit, or for a connection, the next is composed
        // and ready, so no connection idles between messages. Sends stay at the
        // connection count.
        let permits = SendPermits(lanes)
        var taken = 0
        var leaseExpiresAt = Date.distantFuture
        var held = Set<Int64>()
        var stopped = false
        var lastClaimShort = false
        // The next batch, claimed and read while this one is being sent (a full
        // batch only: a short one means the queue is drained or trickling).
        var prefetch: Task<ClaimedBatch, any Error>?
        // A claim, read or renewal that failed: the pass claims no more, lets the
        // attempts in flight finish and record their results (a mail handed to
        // the relay and left unrecorded would go out again at its lease), then
        // fails with it.
        var storeFailure: (any Error)?
        let fetch = { @Sendable (limit: Int) async throws -> ClaimedBatch in
            let now = clock.now()
            // A claim or read the store does not answer is given up at a graceful
            // shutdown (within 250 ms) instead of holding the stop until its deadline.
            let claimed = try await withStoreDeadline(deadline, "a claim", abandonIf: shouldStop) {
                try await store.claimDue(
                    at: now, limit: limit, lease: Lease(owner: owner, expiresAt: now.addingTimeInterval(leaseSeconds)))
            }
            if claimed.isEmpty { return ClaimedBatch(deliveries: [], orders: [:], claimedAt: now, asked: limit) }
            let orderIds = Set(claimed.map(\.orderId))
            let orders = try await withStoreDeadline(deadline, "an order read", abandonIf: shouldStop) {
                try await store.storedOrders(orderIds)
            }
            return ClaimedBatch(deliveries: claimed, orders: orders, claimedAt: now, asked: limit)
        }
        do {
            try await withThrowingTaskGroup(of: DeliveryState?.self) { group in
                var inFlight = 0
                var batch: ArraySlice<Delivery> = []
                var orders: [String: StoredOrder] = [:]
                /// How many the next claim asks for; nil once the pass has its limit or is stopping.
                func nextClaimSize() -> Int? {
                    let remaining = limit.map { $0 - taken } ?? batchSize
                    return remaining > 0 && !shouldStop() ? min(batchSize, remaining) : nil
                }
                while true {
                    if batch.isEmpty {
                        let next: ClaimedBatch
                        do {
                            if let pending = prefetch {
                                prefetch = nil
                                next = try await pending.value
                            } else {
                                // The next batch is claimed while the last one's tail is still
                                // in flight, so the connections do not idle between batches.
                                guard let size = nextClaimSize() else { break }
                                if lastClaimShort && trickleLinger > .zero {
                                    try await Task.sleep(for: trickleLinger)
                                }
                                next = try await fetch(size)
                            }
                        } catch {
                            _ = try Self.interrupted(by: error, stopped: &stopped, failure: &storeFailure)
                            break
                        }
                        if next.deliveries.isEmpty { break }
                        lastClaimShort = next.deliveries.count < next.asked
                        taken += next.deliveries.count
                        orders = next.orders
                        held.formUnion(next.deliveries.map(\.id))
                        // The earliest lease still held decides when to renew.
                        leaseExpiresAt = min(inFlight == 0 ? .distantFuture : leaseExpiresAt,
                                             next.claimedAt.addingTimeInterval(leaseSeconds))
                        batch = next.deliveries[...]
                        if !lastClaimShort, let size = nextClaimSize() {
                            prefetch = Task { try await fetch(size) }
                        }
                    }
                    if shouldStop() {
                        stopped = true
                        summary.lost += batch.count
                        break
                    }
                    let delivery = batch.removeFirst()
                    if inFlight == lanes * 2, let finished = try await group.next() {
                        inFlight -= 1
                        summary.count(finished)
                        progress(summary)
                    }
                    // Renew before an attempt that could outlast the lease; skip claims lost meanwhile.
                    let current = clock.now()
                    if current.addingTimeInterval(leaseSeconds / 2) > leaseExpiresAt {
                        let until = current.addingTimeInterval(leaseSeconds)
                        leaseExpiresAt = until
                        do {
                            held = try await withStoreDeadline(deadline, "a lease renewal", abandonIf: shouldStop) {
                                try await store.renewClaims(owner: owner, until: until)
                            }
                        } catch {
                            // This delivery and the rest of the batch are not started.
                            if try Self.interrupted(by: error, stopped: &stopped, failure: &storeFailure) {
                                summary.lost += batch.count + 1
                            }
                            break
                        }
                    }
                    // Removed once started: the set holds only claims not yet started.
                    guard held.remove(delivery.id) != nil else {
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
            prefetch?.cancel()
            throw error
        }
        if let pending = prefetch, let unsent = try? await pending.value, !unsent.deliveries.isEmpty {
            // Stopped with a batch claimed ahead: it was never started.
            summary.lost += unsent.deliveries.count
            stopped = true
        }
        if stopped {
            // In-flight attempts are recorded; what was not started is given back
            // (briefly: a store that does not answer now lets the leases run out).
            try await withStoreDeadline(min(deadline, Self.releaseSeconds), "a release") {
                try await store.releaseClaims(owner: owner)
            }
        }
        return summary
    }

    /// One attempt at one claimed delivery. Returns the state it moved to, or
    /// nil when the claim had been taken over meanwhile.
    func deliver(_ delivery: Delivery, order stored: StoredOrder?, clock: any WallClock,
                 recorder: AttemptRecorder, permits: SendPermits) async throws -> DeliveryState? {
        let started = clock.now()

        let record: AttemptRecord
        switch prepareMessage(delivery, stored, date: started) {
        case .failure(let problem):
            record = AttemptRecord(startedAt: started, finishedAt: clock.now(), nextState: .dead, retryAt: nil,
                                   replyCode: nil, reply: "not sendable: \(problem)")
        case .success(let (bytes, envelope)):
            await permits.acquire()
            let sendStarted = ContinuousClock.now
            let outcome = await transport.send(bytes, envelope: envelope)
            permits.release()
            Timer(label: "flexpost_smtp_attempt_duration_seconds", dimensions: [("kind", delivery.kind.rawValue)])
                .record(duration: ContinuousClock.now - sendStarted)
            record = attemptRecord(outcome, delivery: delivery, started: started, finished: clock.now())
        }
        let held = try await recorder.record(CompletedAttempt(deliveryId: delivery.id, attempt: record))
        Counter(label: "flexpost_deliveries_total",
                dimensions: [("kind", delivery.kind.rawValue), ("result", record.nextState.rawValue)]).increment()
        var metadata: Logger.Metadata = [
            "delivery.id": "\(delivery.id)", "delivery.kind": "\(delivery.kind.rawValue)", "order.id": "\(delivery.orderId)",
            "smtp.code": "\(record.replyCode.map(String.init) ?? "-")", "smtp.reply": "\(record.reply)",
        ]
        switch record.nextState {
        case .sent: logger.info("delivery sent", metadata: metadata)
        case .retrying:
            metadata["retry.at"] = "\(record.retryAt.map(RFC3339.format) ?? "-")"
            logger.warning("delivery failed, will retry", metadata: metadata)
        default: logger.error("delivery failed for good", metadata: metadata)
        }
        return held ? record.nextState : nil
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

    /// How long giving unstarted claims back may take when stopping.
    public static let releaseSeconds: Double = 3

    /// Records an attempt's result, retrying through a short database outage
    /// (up to a third of the lease): giving up would let the lease expire and
    /// the mail, already handed to the relay, be sent a second time.
    func recordWithRetry<T>(_ body: () async throws -> T) async throws -> T {
        // A timed-out record is retried too: the store may be back a moment later.
        let deadline = ContinuousClock.now + .seconds(leaseSeconds / 3)
        var delay = Duration.milliseconds(100)
        while true {
            do {
                return try await body()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard ContinuousClock.now + delay < deadline else { throw error }
                logger.warning("recording a delivery result failed, retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    func prepareMessage(_ delivery: Delivery, _ stored: StoredOrder?, date: Date) -> Result<([UInt8], Envelope), Problem> {
        guard let stored else { return .failure(Problem(description: "order \(delivery.orderId) is not stored")) }
        let content: any MailContent
        switch delivery.kind {
        case .accessData:
            var order = stored.order
            do {
                order.secrets = try sealer.open(stored.sealedSecrets, orderId: order.orderId)
            } catch {
                return .failure(Problem(description: error.description))
            }
            let missing = order.siteProducts.filter { order.secrets.accessPasswords[$0.siteProductId] == nil }
            if !missing.isEmpty {
                return .failure(Problem(description: "access passwords are no longer stored (purged or cancelled)"))
            }
            content = AccessDataMail(order: order, portalActive: stored.portalActive)
        case .adminNotice:
            content = AdministratorNotice(order: stored.order, administrator: delivery.recipient)
        }
        do {
            let message = try composer.compose(
                content, to: delivery.recipient, language: delivery.language, messageID: delivery.messageID, date: date)
            let bytes = try message.render()
            return .success((bytes, Envelope(sender: composer.sender.email, recipients: [delivery.recipient.email])))
        } catch let error as MailComposer.CompositionError {
            return .failure(Problem(description: error.description))
        } catch {
            return .failure(Problem(description: "\(error)"))
        }
    }

    func attemptRecord(_ outcome: TransportOutcome, delivery: Delivery, started: Date, finished: Date) -> AttemptRecord {
        switch outcome {
        case .accepted(let code, let reply):
            return AttemptRecord(startedAt: started, finishedAt: finished, nextState: .sent, retryAt: nil,
                                 replyCode: code, reply: reply)
        case .permanentFailure(let code, let reply):
            return AttemptRecord(startedAt: started, finishedAt: finished, nextState: .dead, retryAt: nil,
                                 replyCode: code, reply: reply)
        case .transientFailure(let code, let reply):
            let next = retryPolicy.nextAttempt(
                after: delivery.attempts, now: finished, firstDue: delivery.firstDueAt, random: Double.random(in: 0..<1))
            return AttemptRecord(
                startedAt: started, finishedAt: finished, nextState: next == nil ? .dead : .retrying, retryAt: next,
                replyCode: code, reply: next == nil ? "retry lifetime exceeded; last: \(reply)" : reply)
        }
    }
}

/// At most `count` sends at once: a pass keeps more deliveries in flight than
/// the transport has connections (composed and waiting, or recording their
/// result), and only this many of them talk to the relay.
final class SendPermits: Sendable {
    private struct State {
        var available: Int
        var waiters: [CheckedContinuation<Void, Never>] = []
    }

    private let state: Mutex<State>

    init(_ count: Int) {
        state = Mutex(State(available: max(1, count)))
    }

    func acquire() async {
        if state.withLock({ state in
            guard state.available > 0 else { return false }
            state.available -= 1
            return true
        }) { return }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let granted = state.withLock { state in
                if state.available > 0 {
                    state.available -= 1
                    return true
                }
                state.waiters.append(continuation)
                return false
            }
            if granted { continuation.resume() }
        }
    }

    /// Hands the permit to the longest waiter, if any.
    func release() {
        let waiter: CheckedContinuation<Void, Never>? = state.withLock { state in
            if state.waiters.isEmpty {
                state.available += 1
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume()
    }
}
