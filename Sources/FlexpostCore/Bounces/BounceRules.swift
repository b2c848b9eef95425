import Foundation

/// What taking in a bounce did (SPEC §6).
public enum BounceOutcome: Sendable, Equatable {
    /// `failed` on a `sent` delivery: it is `bounced` now.
    case bounced
    /// `delayed`: noted in the history; the delivery stays `sent`.
    case delayNoted
    /// Taken in before: nothing changed.
    case duplicate
    /// Read, and nothing to change: `delivered`, an auto-reply, a feedback
    /// report, unknown, or a delivery not (or no longer) `sent`. Logged and counted.
    case ignored(String)
    /// It names no delivery flexpost knows.
    case unmatched
}

/// SPEC §6 as pure decisions: which delivery a bounce is about, and what it changes.
public enum BounceRules {
    /// The recipient entry about `delivery`: the one naming its recipient, else
    /// the only one; nil when the report has none for it.
    public static func entry(_ report: BounceReport, for delivery: Delivery) -> BouncedRecipient? {
        let address = delivery.recipient.email.value.lowercased()
        if let named = report.recipients.first(where: { $0.recipient?.lowercased() == address }) { return named }
        return report.recipients.count == 1 ? report.recipients[0] : nil
    }

    /// What makes a bounce "the same": its Message-ID (or its bytes) and what it says about the delivery.
    public static func key(_ report: BounceReport, entry: BouncedRecipient?) -> String {
        [report.messageId ?? report.digest, entry?.bounceClass.rawValue ?? report.bounceClass.rawValue, entry?.status ?? ""]
            .joined(separator: "|")
    }

    /// The decision for one bounce about one delivery of the order (`facts`).
    public static func apply(_ report: BounceReport, deliveryId: Int64, facts: OrderFacts?, at: Date) -> Decision<BounceOutcome> {
        guard let facts, let delivery = facts.deliveries.first(where: { $0.id == deliveryId }) else {
            return Decision(.unmatched)
        }
        let entry = entry(report, for: delivery)
        let bounceClass = entry?.bounceClass ?? report.bounceClass
        let key = key(report, entry: entry)
        if facts.bounceKeys.contains(key) { return Decision(.duplicate) }
        let recorded = QueueChange.recordBounce(key: key, deliveryId: deliveryId, at: at, bounceClass: bounceClass,
                                                status: entry?.status, diagnostic: entry?.diagnostic)
        let what = [entry?.status, entry?.diagnostic, entry?.remoteMTA.map { "remote MTA \($0)" },
                    report.reportingMTA.map { "reported by \($0)" }].compactMap { $0 }.joined(separator: "; ")
        switch bounceClass {
        case .failed where delivery.state == .sent:
            return Decision(.bounced, changes: [
                recorded,
                .finish(deliveryIds: [deliveryId], state: .bounced, at: at),
                .note(orderId: facts.orderId, HistoryEntry(at: at, actor: SystemActor.bounce, action: .bounced,
                                                           detail: "delivery \(deliveryId) (\(delivery.kind.rawValue)): \(what)")),
            ])
        case .delayed where delivery.state == .sent:
            return Decision(.delayNoted, changes: [
                recorded,
                .note(orderId: facts.orderId, HistoryEntry(at: at, actor: SystemActor.bounce, action: .bounceDelayed,
                                                           detail: "delivery \(deliveryId) (\(delivery.kind.rawValue)): \(what)")),
            ])
        case .failed, .delayed:
            return Decision(.ignored("the delivery is \(delivery.state.rawValue), not sent"), changes: [recorded])
        case .delivered, .autoreply, .feedback, .unknown:
            return Decision(.ignored(bounceClass.rawValue), changes: [recorded])
        }
    }
}
