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
        if request.kind == .accessData && (facts.secretsPurged || facts.cancelled) {
            return refused(.secretsGone, "secrets purged or order cancelled")
        }
        // R5: nothing more is said about products that will not come.
        if facts.cancelled { return refused(.orderCancelled, "order cancelled") }
        // R1: access data not sent yet would leave before the next-day rule, and
        // the original would still go at its time.
        if request.kind == .accessData,
            let waiting = facts.deliveries.first(where: { $0.kind == .accessData && $0.state == .scheduled })
        {
            return refused(.stillScheduled(waiting.dueAt), "still scheduled for \(RFC3339.format(waiting.dueAt))")
        }
        var seen = Set<String>()
        let recipients = facts.deliveries.filter {
            $0.kind == request.kind && !$0.isResend && seen.insert($0.recipient.email.value).inserted
        }
        if recipients.isEmpty { return Decision(.nothingToResend) }
        let planned = recipients.map {
            NewDelivery(PlannedDelivery(kind: request.kind, recipient: $0.recipient, language: $0.language, dueAt: at,
                                        messageID: messageID()), isResend: true)
        }
        return Decision(nil, changes: [
            .schedule(orderId: facts.orderId, deliveries: planned, at: at),
            .note(orderId: facts.orderId, HistoryEntry(at: at, actor: request.actor, action: .resend, detail: detail)),
        ])
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
}

extension ResendRefusal {
    /// Why, in words for support (CLI, API, console).
    public var explanation: String {
        switch self {
        case .unknownOrder: "unknown order"
        case .secretsGone: "its secrets were purged (retention) or the order was cancelled: access data cannot be resent"
        case .orderCancelled: "the order was cancelled: nothing more is sent for it (R5)"
        case .stillScheduled(let due): "the mail has not been sent yet: it is still scheduled for \(RFC3339.format(due))"
        case .nothingToResend: "the order has no e-mail of this kind to resend"
        case .limitReached(let limit): "resend limit reached: at most \(limit) resends per order per day (FLEXPOST_RESEND_LIMIT)"
        }
    }
}
