import Foundation

/// What support, `status`, `list` and the console read; never a secret
/// beyond the sealed ones a ``StoredOrder`` carries for composing mail.
public protocol SupportReads: Sendable {
    func storedOrder(_ orderId: String) async throws -> StoredOrder?
    func deliveries(orderId: String) async throws -> [Delivery]
    /// The ids of a customer's orders, oldest first.
    func orderIds(customerNumber: String) async throws -> [String]
    /// SPEC §7 overview: sent, dead and bounced mail per hour, ended in the window.
    func hourlyOutcomes(from: Date, to: Date) async throws -> [HourlyOutcome]
    /// SPEC §7: the orders a search term (``OrderSearch/term(_:)``) finds, newest first.
    func searchOrders(term: String, limit: Int) async throws -> [OrderMatch]
    /// Deliveries that ended `bounced` in the window, newest first, with what the bounce said.
    func bouncedDeliveries(endedFrom from: Date, to: Date, limit: Int) async throws -> [BouncedDelivery]
    /// How many bounces were taken in, by the delivery's kind and the bounce's class (`/metrics`).
    func bounceCounts() async throws -> [BounceCount]
    /// The delivery that carried a Message-ID, and its order (SPEC §6: a bounce without a VERP token).
    func delivery(messageId: String) async throws -> (deliveryId: Int64, orderId: String)?
    /// The order a delivery belongs to; nil for an unknown delivery id.
    func orderId(ofDelivery deliveryId: Int64) async throws -> String?
    func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery]
    /// Dead deliveries whose end was recorded from `from` to `to` (both
    /// included), the earliest end first (what an incident killed), or the
    /// latest first (what the support console lists).
    func deadDeliveries(endedFrom from: Date, to: Date, limit: Int, newestFirst: Bool) async throws -> [Delivery]
    func attempts(orderId: String) async throws -> [AttemptEntry]
    func history(orderId: String) async throws -> [HistoryEntry]
    /// How many deliveries are in each state (for metrics and `list`).
    func countsByState() async throws -> [DeliveryState: Int]
}

/// A bounced delivery and what its bounce said (the console's first page).
public struct BouncedDelivery: Sendable, Equatable {
    public var delivery: Delivery
    public var status: String?
    public var diagnostic: String?

    public init(delivery: Delivery, status: String?, diagnostic: String?) {
        self.delivery = delivery
        self.status = status
        self.diagnostic = diagnostic
    }
}

/// Bounces taken in, for one kind of mail and one class.
public struct BounceCount: Sendable, Equatable {
    public var kind: DeliveryKind
    public var bounceClass: BounceClass
    public var count: Int

    public init(kind: DeliveryKind, bounceClass: BounceClass, count: Int) {
        self.kind = kind
        self.bounceClass = bounceClass
        self.count = count
    }
}
