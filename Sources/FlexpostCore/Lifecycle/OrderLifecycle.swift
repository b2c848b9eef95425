import Foundation

/// R5 and R7 as pure decisions over an order's facts: what a cancellation and
/// a support resend change. The stores read the facts and record the changes
/// in one transaction (``LifecycleStore/decide(orderIds:_:)``).
public enum OrderLifecycle {
    /// R5: the order system cancels the order. Unsent deliveries become
    /// `cancelled` and the secrets are destroyed; when everything was sent
    /// already, the cancellation is recorded and changes nothing.
    /// - Parameters:
    ///   - at: when flexpost takes the cancellation in.
    ///   - cancelledAt: when the order system says the order was cancelled.
    public static func cancel(_ facts: OrderFacts, at: Date, cancelledAt: Date) -> Decision<Void> {
        let unsent = facts.unsent
        let orderId = facts.orderId
        if unsent.isEmpty && facts.deliveries.contains(where: { $0.state == .sent }) {
            return Decision((), changes: [
                .note(orderId: orderId, HistoryEntry(at: at, actor: SystemActor.orderSystem, action: .cancellationRecorded,
                                                     detail: "cancelled after sending: nothing changed (R5)")),
            ])
        }
        return Decision((), changes: [
            .finish(deliveryIds: unsent.map(\.id), state: .cancelled, at: at),
            .destroySecrets(orderId: orderId, at: at),
            .markCancelled(orderId: orderId, at: cancelledAt),
            .note(orderId: orderId, HistoryEntry(at: at, actor: SystemActor.orderSystem, action: .cancelled,
                                                 detail: "\(unsent.count) unsent deliveries cancelled, secrets destroyed")),
        ])
    }

    /// The history line of a cancellation that arrived before its order: the
    /// order, when it comes, is stored cancelled at once.
    public static func cancellationBeforeOrder(at: Date) -> HistoryEntry {
        HistoryEntry(at: at, actor: SystemActor.orderSystem, action: .cancelled, detail: "cancellation received before the order")
    }

    /// R7: support asks for an order's mail of one kind again. Refused when
    /// the order is unknown, when `limitPerDay` resends were scheduled in the
    /// last 24 hours, or for access data whose secrets are gone (purged or
    /// cancelled) or still scheduled, and for any mail of a cancelled order;
    /// otherwise a new delivery, due `at` with a new Message-ID,
    /// for each recipient of the original deliveries of that kind (support
    /// never gives an address). Actor and reason go into the history; R2 is
    /// decided again when the mail is composed.
    /// - Returns: nil when deliveries are scheduled, else why not.
    public static func resend(
        _ request: ResendRequest, facts: OrderFacts?, at: Date, limitPerDay: Int, messageID: () -> String
    ) -> Decision<ResendRefusal?> {
        guard let facts else { return Decision(.unknownOrder) }
        let detail = "\(request.kind.rawValue) by \(request.actor): \(request.reason)"
        let refused = { (refusal: ResendRefusal, why: String) in
            Decision<ResendRefusal?>(refusal, changes: [
                .note(orderId: facts.orderId, HistoryEntry(at: at, actor: request.actor, action: .resendRefused,
                                                           detail: why + "; " + detail)),
            ])
        }
        let recent = facts.resendTimes.filter { $0 > at.addingTimeInterval(-86_400) }.count
        if recent >= limitPerDay {
            return refused(.limitReached(limitPerDay), "limit of \(limitPerDay) resends per day reached")
        }
        // SPEC §8: nobody is left to send to.
        if let erased = facts.personalDataErasedAt {
            return refused(.personalDataErased(erased), "personal data erased")
        }
        if request.kind == .accessData && (facts.secretsPurged || facts.cancelled) {
            return refused(.secretsGone, "secrets purged or order cancelled")
        }
        // R5: nothing more is said about products that will not come.
        if facts.cancelled { return refused(.orderCancelled, "order cancelled") }
        // R1: access data not sent yet would leave before the next-day rule, and
        // the original would still go at its time.
        if request.kind == .accessData,
            let waiting = facts.deliveries.first(where: { $0.kind == .accessData && [.scheduled, .held].contains($0.state) })
        {
            return refused(.stillScheduled(waiting.dueAt), "still scheduled for \(RFC3339.format(waiting.dueAt))")
        }
        var seen = Set<String>()
        let originals = facts.deliveries.filter {
            $0.kind == request.kind && !$0.isResend && seen.insert($0.recipient.email.value).inserted
        }
        if originals.isEmpty { return Decision(.nothingToResend) }
        // SPEC §6: "the same recipients" are the ones the order system last gave.
        let recipients = facts.recipients.current(request.kind).map { current in
            current.map { ($0, originals[0].language) }
        } ?? originals.map { ($0.recipient, $0.language) }
        let planned = recipients.map { recipient, language in
            NewDelivery(PlannedDelivery(kind: request.kind, recipient: recipient, language: language, dueAt: at,
                                        messageID: messageID()), isResend: true)
        }
        return Decision(nil, changes: [
            .schedule(orderId: facts.orderId, deliveries: planned, at: at),
            .note(orderId: facts.orderId, HistoryEntry(at: at, actor: request.actor, action: .resend, detail: detail)),
        ])
    }
}

extension OrderLifecycle {
    /// SPEC §8: an operator cancels one delivery. It becomes `cancelled` (a
    /// worker's claim on it is dropped, like R5's) with actor and reason in the
    /// history. When it carried the access data and no other unsent delivery
    /// of the order does, the order's secrets are destroyed: nothing needs them
    /// before a resend, and a resend is then refused like after R5.
    /// - Returns: nil when cancelled, else why not.
    public static func cancelDelivery(
        _ request: DeliveryCancellation, facts: OrderFacts?, at: Date
    ) -> Decision<DeliveryCancellationRefusal?> {
        guard let facts, let delivery = facts.deliveries.first(where: { $0.id == request.deliveryId }) else {
            return Decision(.unknownDelivery)
        }
        guard !delivery.state.isFinal else { return Decision(.alreadyEnded(delivery.state)) }
        // Its attempt may be on the wire: "cancelled" could not be trusted.
        guard delivery.state != .sending else { return Decision(.beingSent) }
        var changes: [QueueChange] = [.finish(deliveryIds: [delivery.id], state: .cancelled, at: at)]
        var detail = "delivery \(delivery.id) (\(delivery.kind.rawValue)) by \(request.actor): \(request.reason)"
        let othersNeedSecrets = facts.unsent.contains { $0.id != delivery.id && $0.kind == .accessData }
        if delivery.kind == .accessData && !othersNeedSecrets && facts.holdsSecrets {
            changes.append(.destroySecrets(orderId: facts.orderId, at: at))
            detail += "; secrets destroyed"
        }
        changes.append(.note(orderId: facts.orderId,
                             HistoryEntry(at: at, actor: request.actor, action: .deliveryCancelled, detail: detail)))
        return Decision(nil, changes: changes)
    }
}

/// An operator's request to cancel one delivery (SPEC §8).
public struct DeliveryCancellation: Sendable, Equatable {
    public var deliveryId: Int64
    public var actor: String
    public var reason: String

    public init(deliveryId: Int64, actor: String, reason: String) {
        self.deliveryId = deliveryId
        self.actor = actor
        self.reason = reason
    }
}

/// Why a delivery was not cancelled.
public enum DeliveryCancellationRefusal: Sendable, Equatable {
    case unknownDelivery
    /// It is `sent`, `cancelled` or `dead` already.
    case alreadyEnded(DeliveryState)
    /// A worker is sending it right now.
    case beingSent

    public var explanation: String { explanation(in: .english) }

    /// Why, in words for support in the console's language.
    public func explanation(in language: UILanguage) -> String {
        let german = language == .german
        switch self {
        case .unknownDelivery: return german ? "unbekannte Zustellung" : "unknown delivery"
        case .alreadyEnded(let state):
            return german ? "die Zustellung ist schon beendet: sie ist \(state.rawValue)"
                : "the delivery has ended already: it is \(state.rawValue)"
        case .beingSent:
            return german ? "die Zustellung wird gerade gesendet: sehen Sie in einer Minute wieder nach"
                : "the delivery is being sent right now: look at it again in a minute"
        }
    }
}

/// Why a resend (R7) was not scheduled.
public enum ResendRefusal: Sendable, Equatable {
    case unknownOrder
    /// The access data cannot be sent again: its secrets were purged or the order cancelled.
    case secretsGone
    /// The order was cancelled (R5): its administrator notices would announce what will not come.
    case orderCancelled
    /// The access data has not been sent yet; it is due at the given time (R1).
    case stillScheduled(Date)
    /// The order never had a delivery of this kind (nobody to resend to).
    case nothingToResend
    /// `FLEXPOST_RESEND_LIMIT` reached for this order in the last 24 hours.
    case limitReached(Int)
    /// The order's personal data was erased at the given time (SPEC §8): no recipient is left.
    case personalDataErased(Date)
}

extension ResendRefusal {
    /// Why, in words for support (CLI, API), times in RFC 3339.
    public var explanation: String { explanation(in: .english, time: nil) }

    /// Why, in the console's language, times local when `time` is given.
    public func explanation(in language: UILanguage, time: LocalDisplayTime?) -> String {
        func at(_ date: Date) -> String { time?.format(date) ?? RFC3339.format(date) }
        let german = language == .german
        switch self {
        case .unknownOrder: return german ? "unbekannter Auftrag" : "unknown order"
        case .secretsGone:
            return german ? "seine Geheimnisse wurden gelöscht (Aufbewahrungsfrist) oder der Auftrag storniert: "
                + "Zugangsdaten können nicht erneut gesendet werden"
                : "its secrets were purged (retention) or the order was cancelled: access data cannot be resent"
        case .orderCancelled:
            return german ? "der Auftrag wurde storniert: für ihn wird nichts mehr gesendet (R5)"
                : "the order was cancelled: nothing more is sent for it (R5)"
        case .stillScheduled(let due):
            return german ? "die E-Mail ist noch nicht gesendet: sie ist für \(at(due)) geplant"
                : "the mail has not been sent yet: it is still scheduled for \(at(due))"
        case .nothingToResend:
            return german ? "der Auftrag hat keine E-Mail dieser Art zum erneuten Senden"
                : "the order has no e-mail of this kind to resend"
        case .limitReached(let limit):
            return german ? "Grenze erreicht: höchstens \(limit) erneute Sendungen je Auftrag und Tag (FLEXPOST_RESEND_LIMIT)"
                : "resend limit reached: at most \(limit) resends per order per day (FLEXPOST_RESEND_LIMIT)"
        case .personalDataErased(let erased):
            return german ? "die personenbezogenen Daten des Auftrags wurden am \(at(erased)) gelöscht: niemand ist mehr da, an den gesendet werden kann"
                : "the order's personal data was erased on \(at(erased)): nobody is left to send to"
        }
    }
}
