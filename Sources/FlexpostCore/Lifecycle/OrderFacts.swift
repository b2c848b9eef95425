import Foundation

/// What the queue store knows of one order, read in the transaction that will
/// record what the rules decide about it. The stores answer these facts; the
/// rules (``OrderLifecycle``, ``SecretRetention``) decide from them alone.
public struct OrderFacts: Sendable, Equatable {
    public var orderId: String
    public var customerNumber: String
    /// When the order system cancelled the order (R5), if it did.
    public var cancelledAt: Date?
    /// When the order's secrets were destroyed (R5 or R8), if they were.
    public var secretsPurgedAt: Date?
    /// Whether sealed secrets are still stored for the order.
    public var holdsSecrets: Bool
    /// Every delivery of the order, in the order they were created.
    public var deliveries: [Delivery]
    /// When support's resends of the order were scheduled (R7's daily limit).
    public var resendTimes: [Date]
    /// When flexpost took the order in.
    public var receivedAt: Date
    /// When the order's personal data was erased (SPEC §8), if it was.
    public var personalDataErasedAt: Date?
    /// The bounces taken in about the order's deliveries (``BounceRules/key(_:entry:)``).
    public var bounceKeys: Set<String>
    /// The customer's recipients as the order system last corrected them (SPEC §6).
    public var recipients: CustomerRecipients

    public init(orderId: String, customerNumber: String, cancelledAt: Date?, secretsPurgedAt: Date?, holdsSecrets: Bool,
                deliveries: [Delivery], resendTimes: [Date], receivedAt: Date, personalDataErasedAt: Date? = nil,
                bounceKeys: Set<String> = [], recipients: CustomerRecipients = .none) {
        self.orderId = orderId
        self.customerNumber = customerNumber
        self.cancelledAt = cancelledAt
        self.secretsPurgedAt = secretsPurgedAt
        self.holdsSecrets = holdsSecrets
        self.deliveries = deliveries
        self.resendTimes = resendTimes
        self.receivedAt = receivedAt
        self.personalDataErasedAt = personalDataErasedAt
        self.bounceKeys = bounceKeys
        self.recipients = recipients
    }

    public var cancelled: Bool { cancelledAt != nil }
    public var secretsPurged: Bool { secretsPurgedAt != nil }

    /// The deliveries not yet sent and not ended: what a cancellation stops.
    public var unsent: [Delivery] { deliveries.filter { !$0.state.isFinal } }
}

/// A decision of the rules about some orders: what to answer, and what the
/// store must record for it, all in the transaction the facts were read in.
public struct Decision<Outcome: Sendable>: Sendable {
    public var outcome: Outcome
    public var changes: [QueueChange]

    public init(_ outcome: Outcome, changes: [QueueChange] = []) {
        self.outcome = outcome
        self.changes = changes
    }
}

/// A decision once recorded: its outcome, and the deliveries it created (with
/// their ids), in the order of its ``QueueChange/schedule(orderId:deliveries:at:)`` changes.
public struct Recorded<Outcome: Sendable>: Sendable {
    public var outcome: Outcome
    public var scheduled: [Delivery]

    public init(outcome: Outcome, scheduled: [Delivery]) {
        self.outcome = outcome
        self.scheduled = scheduled
    }
}
