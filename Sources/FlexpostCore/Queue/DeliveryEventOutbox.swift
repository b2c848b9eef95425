import Foundation

/// SPEC §6: the delivery events waiting for the order system. The store
/// writes them with the state change (``DeliveryEvents``), hands them out
/// leased, and forgets one once it was taken.
public protocol DeliveryEventOutbox: Sendable {
    /// Up to `limit` pending events due at `now`, each then leased until
    /// `leaseUntil` (another process does not take it meanwhile); oldest first.
    func claimDeliveryEvents(at now: Date, leaseUntil: Date, limit: Int) async throws -> [PendingDeliveryEvent]

    /// The order system took the event: it is deleted.
    func deliveryEventDelivered(webhookId: String) async throws

    /// A post failed: tried again at `nextAt`, or, nil, the event failed for
    /// good (kept, counted, never posted again).
    func deliveryEventFailed(webhookId: String, nextAt: Date?, error: String) async throws

    /// Up to `limit` events given up after the retry lifetime, oldest first.
    func givenUpDeliveryEvents(limit: Int) async throws -> [GivenUpDeliveryEvent]

    /// Those of the events that are still given up are pending again, due at
    /// `now`, with no failed post counted and a new retry lifetime from `now`
    /// (``DeliveryEvents/nextTry(_:now:policy:random:)``); the same `webhook-id`.
    /// Answers how many.
    func retryDeliveryEvents(_ webhookIds: [String], at now: Date) async throws -> Int

    /// Events waiting (pending) and given up (failed), for `/metrics`.
    func deliveryEventCounts() async throws -> (pending: Int, failed: Int)
}
