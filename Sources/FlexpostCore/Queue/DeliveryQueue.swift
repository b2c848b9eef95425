import Foundation

/// The delivery queue: leased, exclusive claims of due deliveries, their
/// renewal, and the recorded result of every attempt.
public protocol DeliveryQueue: Sendable {
    /// Claims up to `limit` deliveries due at `now` (or whose lease expired).
    func claimDue(at now: Date, limit: Int, lease: Lease) async throws -> [Delivery]

    /// Extends the lease of every claim `owner` still holds; returns their ids.
    /// A claim missing from the answer was taken over and must not be sent.
    func renewClaims(owner: String, until: Date) async throws -> Set<Int64>

    /// Records attempts and moves their deliveries on, all in one transaction
    /// (group commit). Answers, in order, whether `owner` still held each claim;
    /// a claim taken over meanwhile is left as it is.
    func complete(_ attempts: [CompletedAttempt], owner: String) async throws -> [Bool]

    /// Gives claims back (graceful shutdown): they become due again at once.
    func releaseClaims(owner: String) async throws

    /// Several orders in one read (a claimed batch's); unknown ids are left out.
    func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder]

    /// How many deliveries are due at `now` (capped at `limit`): `drain`'s total.
    func dueCount(at now: Date, limit: Int?) async throws -> Int

    /// The earliest due time among deliveries that are due and waiting at `now`.
    func oldestWaitingDue(at now: Date) async throws -> Date?

    /// The earliest due time of a delivery waiting to be sent.
    func nextDueDate() async throws -> Date?
}

extension DeliveryQueue {
    /// Records one attempt; see ``complete(_:owner:)``.
    @discardableResult
    public func complete(deliveryId: Int64, owner: String, attempt: AttemptRecord) async throws -> Bool {
        try await complete([CompletedAttempt(deliveryId: deliveryId, attempt: attempt)], owner: owner).first ?? false
    }
}
