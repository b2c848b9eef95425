import Foundation

/// One write a rule's decision asks of the queue store. This is the whole
/// vocabulary between the rules and the stores: each store persists every
/// case in its own SQL, and decides nothing. A new rule is a new function in
/// the core over ``OrderFacts``; only a new kind of write touches the stores.
public enum QueueChange: Sendable, Equatable {
    /// The deliveries end in `state` at `at`; a worker's claim on them is
    /// dropped (its result, if it comes, is then not recorded over this).
    case finish(deliveryIds: [Int64], state: DeliveryState, at: Date)
    /// The order's sealed secrets are deleted, and the order records when
    /// (kept if it already was).
    case destroySecrets(orderId: String, at: Date)
    /// The order records that the order system cancelled it at `at`.
    case markCancelled(orderId: String, at: Date)
    /// New deliveries of the order, due as planned, created at `at`.
    case schedule(orderId: String, deliveries: [NewDelivery], at: Date)
    /// A line of the order's history.
    case note(orderId: String, HistoryEntry)
    /// SPEC §8: the order's stored event and its deliveries' names and
    /// addresses are erased, each of the `quoted` strings is blanked where
    /// history details and SMTP replies quote it, and the order records when.
    /// History lines of the `blanked` actions (they list addresses) lose their detail.
    /// Only the `keptTerms` still find the order.
    case erasePersonalData(orderId: String, quoted: [String], blanked: [HistoryAction], keptTerms: [String], at: Date)
    /// SPEC §8: the customer's corrected recipients (SPEC §6) are erased.
    case eraseCustomerRecipients(customerNumber: String)
    /// SPEC §6: unsent deliveries go to another recipient.
    case readdress(deliveryIds: [Int64], to: Contact)
    /// SPEC §7: the order is found by these terms too (``OrderSearch``).
    case addSearchTerms(orderId: String, terms: [String])
    /// SPEC §6: the customer's recipients as the order system last gave them.
    case setRecipients(RecipientChange)
    /// SPEC §6: a bounce about the delivery was taken in (so that the same
    /// bounce taken again changes nothing).
    case recordBounce(key: String, deliveryId: Int64, at: Date, bounceClass: BounceClass, status: String?, diagnostic: String?)
    /// SPEC §6: the order system is to be told (``DeliveryEvents``); kept until it took the event.
    case emitDeliveryEvent(DeliveryEventRecord)
}

/// A delivery a decision creates: the plan, and whether it is support's
/// resend (R7 resends go to the recipients of the original deliveries, never
/// to those of an earlier resend).
public struct NewDelivery: Sendable, Equatable {
    public var planned: PlannedDelivery
    public var isResend: Bool

    public init(_ planned: PlannedDelivery, isResend: Bool) {
        self.planned = planned
        self.isResend = isResend
    }
}
