import FlexpostCore
import Foundation
import Synchronization

/// A real store with a count of the claims that found something: how many
/// write transactions a delivery pass spent on claiming. Claims (and
/// retention purges) can be made to fail, as they do while the database is
/// down; purges are counted too.
final class ClaimCountingStore: QueueStore {
    let base: any QueueStore
    private let counts = Mutex((claims: 0, claimed: 0, failed: 0, down: false, attempts: 0, downAfter: Int.max, purges: 0))

    init(_ base: any QueueStore) { self.base = base }

    var claims: Int { counts.withLock { $0.claims } }
    var claimed: Int { counts.withLock { $0.claimed } }
    /// Claims refused while down.
    var failedClaims: Int { counts.withLock { $0.failed } }
    func setDown(_ down: Bool) { counts.withLock { $0.down = down } }
    /// Claims after the first `claims` attempts (empty ones included) are refused.
    func setDown(afterClaims claims: Int) { counts.withLock { $0.downAfter = claims } }

    func claimDue(at now: Date, limit: Int, lease: Lease) async throws -> [Delivery] {
        let down = counts.withLock { counts in
            counts.attempts += 1
            let down = counts.down || counts.attempts > counts.downAfter
            if down { counts.failed += 1 }
            return down
        }
        if down { throw TestFailure("the database is down") }
        let batch = try await base.claimDue(at: now, limit: limit, lease: lease)
        if !batch.isEmpty { counts.withLock { $0.claims += 1; $0.claimed += batch.count } }
        return batch
    }

    func recordOrder(_ identity: EventIdentity, customerNumber: String, receivedAt: Date,
                     prepare: @escaping @Sendable (Bool) -> PreparedOrder) async throws -> IntakeOutcome {
        try await base.recordOrder(identity, customerNumber: customerNumber, receivedAt: receivedAt, prepare: prepare)
    }
    func recordCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date) async throws
        -> IntakeOutcome { try await base.recordCancellation(identity, cancellation, receivedAt: receivedAt) }
    func recordActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date) async throws
        -> IntakeOutcome { try await base.recordActivation(identity, activation, receivedAt: receivedAt) }
    func renewClaims(owner: String, until: Date) async throws -> Set<Int64> { try await base.renewClaims(owner: owner, until: until) }
    func complete(_ attempts: [CompletedAttempt], owner: String) async throws -> [Bool] {
        try await base.complete(attempts, owner: owner)
    }
    func releaseClaims(owner: String) async throws { try await base.releaseClaims(owner: owner) }
    func decide<Outcome: Sendable>(
        orderIds: [String], _ decide: @escaping @Sendable ([String: OrderFacts]) -> Decision<Outcome>
    ) async throws -> Recorded<Outcome> { try await base.decide(orderIds: orderIds, decide) }
    func migrate() async throws -> [String] { try await base.migrate() }
    func fingerprintKey(orMake make: @escaping @Sendable () -> SealedSecret) async throws -> SealedSecret {
        try await base.fingerprintKey(orMake: make)
    }
    func sealingKeyIds() async throws -> Set<String> { try await base.sealingKeyIds() }
    /// Purges asked for (a purge starts by reading its first candidates), refused ones (while down) included.
    var purges: Int { counts.withLock { $0.purges } }
    func ordersHoldingSecrets(after afterOrderId: String?, limit: Int) async throws -> [String] {
        let down = counts.withLock { counts in
            if afterOrderId == nil { counts.purges += 1 }
            return counts.down
        }
        if down { throw TestFailure("the database is down") }
        return try await base.ordersHoldingSecrets(after: afterOrderId, limit: limit)
    }
    func rekey(newestKeyId: String, reseal: @escaping @Sendable (String, SealedSecret) -> SealedSecret?) async throws
        -> (rekeyed: Int, failed: Int) { try await base.rekey(newestKeyId: newestKeyId, reseal: reseal) }
    func close() async { await base.close() }
    func recordRecipientChange(_ identity: EventIdentity, _ change: RecipientChange, receivedAt: Date,
                               messageID: @escaping @Sendable () -> String) async throws -> IntakeOutcome {
        try await base.recordRecipientChange(identity, change, receivedAt: receivedAt, messageID: messageID)
    }
    func createSession(_ session: SupportSession) async throws { try await base.createSession(session) }
    func session(idHash: String) async throws -> SupportSession? { try await base.session(idHash: idHash) }
    func touchSession(idHash: String, at: Date) async throws { try await base.touchSession(idHash: idHash, at: at) }
    func deleteSession(idHash: String) async throws { try await base.deleteSession(idHash: idHash) }
    func deleteSessions(lastSeenBefore: Date, createdBefore: Date) async throws -> Int {
        try await base.deleteSessions(lastSeenBefore: lastSeenBefore, createdBefore: createdBefore)
    }
    func holds() async throws -> [Hold] { try await base.holds() }
    func decideHolds(orderId: String?, _ decide: @escaping @Sendable (HoldFacts) -> HoldDecision) async throws -> HoldResult {
        try await base.decideHolds(orderId: orderId, decide)
    }
    func holdClaims(_ ids: [Int64], owner: String, note: HistoryEntry) async throws {
        try await base.holdClaims(ids, owner: owner, note: note)
    }
    func orderId(ofDelivery deliveryId: Int64) async throws -> String? { try await base.orderId(ofDelivery: deliveryId) }
    func orderIds(customerNumber: String) async throws -> [String] { try await base.orderIds(customerNumber: customerNumber) }
    func bouncedDeliveries(endedFrom from: Date, to: Date, limit: Int) async throws -> [BouncedDelivery] {
        try await base.bouncedDeliveries(endedFrom: from, to: to, limit: limit)
    }
    func bounceCounts() async throws -> [BounceCount] { try await base.bounceCounts() }
    func searchOrders(term: String, limit: Int) async throws -> [OrderMatch] { try await base.searchOrders(term: term, limit: limit) }
    func indexStoredOrders(limit: Int) async throws -> Int { try await base.indexStoredOrders(limit: limit) }
    func hourlyOutcomes(from: Date, to: Date) async throws -> [HourlyOutcome] { try await base.hourlyOutcomes(from: from, to: to) }
    func delivery(messageId: String) async throws -> (deliveryId: Int64, orderId: String)? {
        try await base.delivery(messageId: messageId)
    }
    func ordersHoldingPersonalData(receivedBefore: Date, after afterOrderId: String?, limit: Int) async throws -> [String] {
        try await base.ordersHoldingPersonalData(receivedBefore: receivedBefore, after: afterOrderId, limit: limit)
    }
    func storedOrder(_ orderId: String) async throws -> StoredOrder? { try await base.storedOrder(orderId) }
    func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder] { try await base.storedOrders(orderIds) }
    func deliveries(orderId: String) async throws -> [Delivery] { try await base.deliveries(orderId: orderId) }
    func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery] {
        try await base.deliveries(state: state, limit: limit)
    }
    func deadDeliveries(endedFrom from: Date, to: Date, limit: Int, newestFirst: Bool) async throws -> [Delivery] {
        try await base.deadDeliveries(endedFrom: from, to: to, limit: limit, newestFirst: newestFirst)
    }
    func attempts(orderId: String) async throws -> [AttemptEntry] { try await base.attempts(orderId: orderId) }
    func history(orderId: String) async throws -> [HistoryEntry] { try await base.history(orderId: orderId) }
    func countsByState() async throws -> [DeliveryState: Int] { try await base.countsByState() }
    func dueCount(at now: Date, limit: Int?) async throws -> Int { try await base.dueCount(at: now, limit: limit) }
    func oldestWaitingDue(at now: Date) async throws -> Date? { try await base.oldestWaitingDue(at: now) }
    func nextDueDate() async throws -> Date? { try await base.nextDueDate() }
    func claimDeliveryEvents(at now: Date, leaseUntil: Date, limit: Int) async throws -> [PendingDeliveryEvent] {
        try await base.claimDeliveryEvents(at: now, leaseUntil: leaseUntil, limit: limit)
    }
    func deliveryEventDelivered(webhookId: String) async throws { try await base.deliveryEventDelivered(webhookId: webhookId) }
    func deliveryEventFailed(webhookId: String, nextAt: Date?, error: String) async throws {
        try await base.deliveryEventFailed(webhookId: webhookId, nextAt: nextAt, error: error)
    }
    func givenUpDeliveryEvents(limit: Int) async throws -> [GivenUpDeliveryEvent] {
        try await base.givenUpDeliveryEvents(limit: limit)
    }
    func retryDeliveryEvents(_ webhookIds: [String], at now: Date) async throws -> Int {
        try await base.retryDeliveryEvents(webhookIds, at: now)
    }
    func deliveryEventCounts() async throws -> (pending: Int, failed: Int) { try await base.deliveryEventCounts() }
}
