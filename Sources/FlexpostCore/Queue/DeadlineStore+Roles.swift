import Foundation

// Each role of the queue store through the deadline layer: a call that
// records something goes through `recording`, every other one through
// `asking`; maintenance is not bounded.

// MARK: - Intake

extension DeadlineStore {
    public func recordOrder(_ identity: EventIdentity, customerNumber: String, receivedAt: Date,
                            prepare: @escaping @Sendable (Bool) -> PreparedOrder) async throws -> IntakeOutcome {
        try await recording("an intake") {
            try await $0.recordOrder(identity, customerNumber: customerNumber, receivedAt: receivedAt, prepare: prepare)
        }
    }

    public func recordCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        try await recording("an intake") { try await $0.recordCancellation(identity, cancellation, receivedAt: receivedAt) }
    }

    public func recordRecipientChange(_ identity: EventIdentity, _ change: RecipientChange, receivedAt: Date,
                                      messageID: @escaping @Sendable () -> String) async throws -> IntakeOutcome {
        try await recording("an intake") {
            try await $0.recordRecipientChange(identity, change, receivedAt: receivedAt, messageID: messageID)
        }
    }

    public func recordActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date)
        async throws -> IntakeOutcome
    {
        try await recording("an intake") { try await $0.recordActivation(identity, activation, receivedAt: receivedAt) }
    }
}

// MARK: - Delivery queue

extension DeadlineStore {
    public func claimDue(at now: Date, limit: Int, lease: Lease) async throws -> [Delivery] {
        try await asking("a claim") { try await $0.claimDue(at: now, limit: limit, lease: lease) }
    }

    public func renewClaims(owner: String, until: Date) async throws -> Set<Int64> {
        try await asking("a lease renewal") { try await $0.renewClaims(owner: owner, until: until) }
    }

    public func complete(_ attempts: [CompletedAttempt], owner: String) async throws -> [Bool] {
        try await recording("an attempt record") { try await $0.complete(attempts, owner: owner) }
    }

    public func releaseClaims(owner: String) async throws {
        try await recording("giving claims back", seconds: min(deadlines.seconds, StoreDeadlines.releaseSeconds)) {
            try await $0.releaseClaims(owner: owner)
        }
    }

    public func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder] {
        try await asking("an order read") { try await $0.storedOrders(orderIds) }
    }

    public func dueCount(at now: Date, limit: Int?) async throws -> Int {
        try await asking("a count of due deliveries") { try await $0.dueCount(at: now, limit: limit) }
    }

    public func oldestWaitingDue(at now: Date) async throws -> Date? {
        try await asking("the oldest due time") { try await $0.oldestWaitingDue(at: now) }
    }

    public func nextDueDate() async throws -> Date? {
        try await asking("the next due time") { try await $0.nextDueDate() }
    }
}

// MARK: - Decisions and holds

extension DeadlineStore {
    public func decide<Outcome: Sendable>(
        orderIds: [String], _ decide: @escaping @Sendable ([String: OrderFacts]) -> Decision<Outcome>
    ) async throws -> Recorded<Outcome> {
        try await recording("a decision") { try await $0.decide(orderIds: orderIds, decide) }
    }

    public func holds() async throws -> [Hold] {
        try await asking("a read of the holds") { try await $0.holds() }
    }

    public func decideHolds(orderId: String?, _ decide: @escaping @Sendable (HoldFacts) -> HoldDecision) async throws
        -> HoldResult
    {
        try await recording("a hold or release") { try await $0.decideHolds(orderId: orderId, decide) }
    }

    public func holdClaims(_ ids: [Int64], owner: String, note: HistoryEntry) async throws {
        try await asking("a hold of claims") { try await $0.holdClaims(ids, owner: owner, note: note) }
    }
}

// MARK: - Support reads

extension DeadlineStore {
    public func storedOrder(_ orderId: String) async throws -> StoredOrder? {
        try await asking("an order read") { try await $0.storedOrder(orderId) }
    }

    public func deliveries(orderId: String) async throws -> [Delivery] {
        try await asking("an order's deliveries") { try await $0.deliveries(orderId: orderId) }
    }

    public func orderIds(customerNumber: String) async throws -> [String] {
        try await asking("a customer's orders") { try await $0.orderIds(customerNumber: customerNumber) }
    }

    public func hourlyOutcomes(from: Date, to: Date) async throws -> [HourlyOutcome] {
        try await asking("the hourly outcomes") { try await $0.hourlyOutcomes(from: from, to: to) }
    }

    public func searchOrders(term: String, limit: Int) async throws -> [OrderMatch] {
        try await asking("a search") { try await $0.searchOrders(term: term, limit: limit) }
    }

    public func bouncedDeliveries(endedFrom from: Date, to: Date, limit: Int) async throws -> [BouncedDelivery] {
        try await asking("a read of bounces") { try await $0.bouncedDeliveries(endedFrom: from, to: to, limit: limit) }
    }

    public func bounceCounts() async throws -> [BounceCount] {
        try await asking("the bounce counts") { try await $0.bounceCounts() }
    }

    public func delivery(messageId: String) async throws -> (deliveryId: Int64, orderId: String)? {
        try await asking("a delivery read") { try await $0.delivery(messageId: messageId) }
    }

    public func orderId(ofDelivery deliveryId: Int64) async throws -> String? {
        try await asking("a delivery read") { try await $0.orderId(ofDelivery: deliveryId) }
    }

    public func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery] {
        try await asking("a list of deliveries") { try await $0.deliveries(state: state, limit: limit) }
    }

    public func deadDeliveries(endedFrom from: Date, to: Date, limit: Int, newestFirst: Bool) async throws
        -> [Delivery]
    {
        try await asking("a dead-letter read") {
            try await $0.deadDeliveries(endedFrom: from, to: to, limit: limit, newestFirst: newestFirst)
        }
    }

    public func attempts(orderId: String) async throws -> [AttemptEntry] {
        try await asking("an order's attempts") { try await $0.attempts(orderId: orderId) }
    }

    public func history(orderId: String) async throws -> [HistoryEntry] {
        try await asking("an order's history") { try await $0.history(orderId: orderId) }
    }

    public func countsByState() async throws -> [DeliveryState: Int] {
        try await asking("the queue's counts") { try await $0.countsByState() }
    }

    public func indexStoredOrders(limit: Int) async throws -> Int {
        try await recording("indexing orders for search") { try await $0.indexStoredOrders(limit: limit) }
    }
}

// MARK: - Sessions and delivery events

extension DeadlineStore {
    public func createSession(_ session: SupportSession) async throws {
        try await recording("a sign-in") { try await $0.createSession(session) }
    }

    public func session(idHash: String) async throws -> SupportSession? {
        try await asking("a session check") { try await $0.session(idHash: idHash) }
    }

    public func touchSession(idHash: String, at: Date) async throws {
        try await recording("a session's use") { try await $0.touchSession(idHash: idHash, at: at) }
    }

    public func deleteSession(idHash: String) async throws {
        try await recording("a sign-out") { try await $0.deleteSession(idHash: idHash) }
    }

    public func deleteSessions(lastSeenBefore: Date, createdBefore: Date) async throws -> Int {
        try await recording("a sweep of sessions") {
            try await $0.deleteSessions(lastSeenBefore: lastSeenBefore, createdBefore: createdBefore)
        }
    }

    public func claimDeliveryEvents(at now: Date, leaseUntil: Date, limit: Int) async throws -> [PendingDeliveryEvent] {
        try await asking("a claim of delivery events") {
            try await $0.claimDeliveryEvents(at: now, leaseUntil: leaseUntil, limit: limit)
        }
    }

    public func deliveryEventDelivered(webhookId: String) async throws {
        try await recording("a delivery event's record") { try await $0.deliveryEventDelivered(webhookId: webhookId) }
    }

    public func deliveryEventFailed(webhookId: String, nextAt: Date?, error: String) async throws {
        try await recording("a delivery event's record") {
            try await $0.deliveryEventFailed(webhookId: webhookId, nextAt: nextAt, error: error)
        }
    }

    public func givenUpDeliveryEvents(limit: Int) async throws -> [GivenUpDeliveryEvent] {
        try await asking("the delivery events given up") { try await $0.givenUpDeliveryEvents(limit: limit) }
    }

    public func retryDeliveryEvents(_ webhookIds: [String], at now: Date) async throws -> Int {
        try await recording("a retry of delivery events") { try await $0.retryDeliveryEvents(webhookIds, at: now) }
    }

    public func deliveryEventCounts() async throws -> (pending: Int, failed: Int) {
        try await asking("the delivery events' counts") { try await $0.deliveryEventCounts() }
    }
}

// MARK: - Maintenance: not bounded

extension DeadlineStore {
    /// Migrations, rekeying and the sweeps run as long as they need (no request waits).
    public func migrate() async throws -> [String] { try await base.migrate() }

    public func ordersHoldingSecrets(after afterOrderId: String?, limit: Int) async throws -> [String] {
        try await base.ordersHoldingSecrets(after: afterOrderId, limit: limit)
    }
    public func ordersHoldingPersonalData(receivedBefore: Date, after afterOrderId: String?, limit: Int) async throws
        -> [String]
    {
        try await base.ordersHoldingPersonalData(receivedBefore: receivedBefore, after: afterOrderId, limit: limit)
    }

    public func fingerprintKey(orMake make: @escaping @Sendable () -> SealedSecret) async throws -> SealedSecret {
        try await base.fingerprintKey(orMake: make)
    }
    public func sealingKeyIds() async throws -> Set<String> { try await base.sealingKeyIds() }

    public func rekey(newestKeyId: String, reseal: @escaping @Sendable (_ orderId: String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)
    {
        try await base.rekey(newestKeyId: newestKeyId, reseal: reseal)
    }

    public func close() async { await base.close() }
}
