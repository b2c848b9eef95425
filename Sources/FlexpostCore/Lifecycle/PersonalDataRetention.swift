import Foundation

/// SPEC §8: an order's personal data (names, addresses, e-mail addresses,
/// phone numbers, line ids, user names, the stored event) is erased `days`
/// after every delivery of the order ended, or at once on a data subject's
/// request. Ids, kinds, states, times, SMTP replies and the idempotency keys
/// stay: `status` still shows what happened, and a replayed event is still a
/// duplicate. The history records who erased and why, never what.
public struct PersonalDataRetention: Sendable, Equatable {
    public var days: Int

    public init(days: Int) { self.days = days }

    public func cutoff(at now: Date) -> Date { now.addingTimeInterval(-Double(days) * 86_400) }

    /// Whether the order's personal data is due for erasure at `now`: not yet
    /// erased, every delivery final, and the last of them (or, with none, the
    /// order's receipt or cancellation) ended before the cutoff.
    public func expired(_ facts: OrderFacts, at now: Date) -> Bool {
        guard facts.personalDataErasedAt == nil, facts.deliveries.allSatisfy(\.state.isFinal) else { return false }
        let ends = facts.deliveries.compactMap(\.finishedAt) + [facts.receivedAt] + [facts.cancelledAt].compactMap { $0 }
        return ends.max().map { $0 < cutoff(at: now) } ?? false
    }

    /// The erasure of the orders among `facts` that are due at `now`; the outcome is how many.
    public func erase(_ facts: [OrderFacts], at now: Date) -> Decision<Int> {
        let due = facts.filter { expired($0, at: now) }
        return Decision(due.count, changes: due.flatMap { order in
            PersonalDataErasure.changes(order, at: now, note: HistoryEntry(
                at: now, actor: SystemActor.flexpost, action: .personalDataErased,
                detail: "personal data erased after the retention period (\(days) days)"))
        })
    }
}

/// A data subject's request to erase a customer's personal data at once (`flexpost erase --customer`).
public struct ErasureRequest: Sendable, Equatable {
    public var customerNumber: String
    public var actor: String
    public var reason: String

    public init(customerNumber: String, actor: String, reason: String) {
        self.customerNumber = customerNumber
        self.actor = actor
        self.reason = reason
    }
}

/// What an erasure on request did.
public struct ErasureOutcome: Sendable, Equatable {
    /// Orders whose personal data was erased now.
    public var erased: Int
    /// Orders erased before (retention or an earlier request): left as they are.
    public var alreadyErased: Int
    /// Unsent deliveries cancelled.
    public var cancelled: Int

    public init(erased: Int = 0, alreadyErased: Int = 0, cancelled: Int = 0) {
        self.erased = erased
        self.alreadyErased = alreadyErased
        self.cancelled = cancelled
    }
}

public enum PersonalDataErasure {
    /// A data subject's request for the orders of one customer: what is unsent
    /// is cancelled, secrets and personal data are erased; an order erased
    /// before is left alone, so asking twice changes nothing more.
    public static func erase(_ request: ErasureRequest, facts: [OrderFacts], at: Date) -> Decision<ErasureOutcome> {
        var outcome = ErasureOutcome()
        var changes: [QueueChange] = []
        for order in facts {
            guard order.personalDataErasedAt == nil else {
                outcome.alreadyErased += 1
                continue
            }
            let unsent = order.unsent
            outcome.erased += 1
            outcome.cancelled += unsent.count
            if !unsent.isEmpty { changes.append(.finish(deliveryIds: unsent.map(\.id), state: .cancelled, at: at)) }
            let cancelledNote = unsent.isEmpty ? "" : "; \(unsent.count) unsent deliveries cancelled"
            changes += Self.changes(order, at: at, note: HistoryEntry(
                at: at, actor: request.actor, action: .personalDataErased,
                detail: "personal data erased on request: \(request.reason)\(cancelledNote)"))
        }
        if outcome.erased > 0 || outcome.alreadyErased > 0 {
            changes.append(.eraseCustomerRecipients(customerNumber: request.customerNumber))
        }
        return Decision(outcome, changes: changes)
    }

    /// The writes of one order's erasure. Besides the fields themselves, the
    /// order's e-mail addresses and names are blanked wherever free text may
    /// quote them (history details, SMTP replies).
    static func changes(_ order: OrderFacts, at: Date, note: HistoryEntry) -> [QueueChange] {
        var quoted = Set<String>()
        for delivery in order.deliveries where !delivery.recipient.email.isErased {
            quoted.insert(delivery.recipient.email.value)
            // A name of a few letters could match unrelated words; such a name is still
            // erased from its own fields.
            if delivery.recipient.name.count >= 4 { quoted.insert(delivery.recipient.name) }
        }
        var changes: [QueueChange] = []
        if order.holdsSecrets { changes.append(.destroySecrets(orderId: order.orderId, at: at)) }
        changes.append(.erasePersonalData(orderId: order.orderId, quoted: quoted.sorted { ($0.count, $0) > ($1.count, $1) },
                                          blanked: [.confirmed, .recipientsChanged],
                                          keptTerms: OrderSearch.keptTerms(orderId: order.orderId, customerNumber: order.customerNumber),
                                          at: at))
        changes.append(.note(orderId: order.orderId, note))
        return changes
    }
}
