import Foundation

/// SPEC §7 "why": for a delivery not yet sent, why it is due when it is, and
/// for access data whether the one-time password will be in it, in words for
/// support. Computed by the rules that schedule (``AccessDataSchedule``) and
/// compose (``AccessDataMail/includesOneTimePassword(portalActive:hasOneTimePassword:)``),
/// never a second copy of them.
public struct DeliveryExplanation: Sendable {
    public let schedule: AccessDataSchedule
    public let time: LocalDisplayTime

    public init(schedule: AccessDataSchedule, time: LocalDisplayTime) {
        self.schedule = schedule
        self.time = time
    }

    /// Why the delivery is due then; nil for one that ended.
    public func due(_ delivery: Delivery, order: StoredOrder?, holds: [Hold]) -> String? {
        guard !delivery.state.isFinal else { return nil }
        if let hold = holds.first(where: { $0.scope.covers(delivery) }), delivery.state == .held {
            return "held: \(hold.summary); when released it is due \(time.format(delivery.dueAt)), at once if that has passed"
        }
        switch delivery.state {
        case .sending: return "being sent right now"
        case .retrying:
            return "attempt \(delivery.attempts) did not get through (\(delivery.lastReply ?? "no reply")); "
                + "tried again at \(time.format(delivery.dueAt)), until the retry lifetime from \(time.format(delivery.firstDueAt)) runs out"
        default: break
        }
        if delivery.isResend { return "a resend (R7): due when support asked for it, \(time.format(delivery.firstDueAt))" }
        switch delivery.kind {
        case .adminNotice:
            return "administrator notices go at once (R3): due when the order came in, \(time.format(delivery.firstDueAt))"
        case .accessData:
            guard let confirmedAt = order?.order?.confirmedAt else { return "due \(time.format(delivery.firstDueAt))" }
            let due = schedule.dueDate(confirmedAt: confirmedAt)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = schedule.timeZone
            let day = calendar.dateComponents([.year, .month, .day], from: confirmedAt)
            let dayText = String(format: "%02d.%02d.%04d", day.day ?? 0, day.month ?? 0, day.year ?? 0)
            var text = "R1: confirmed \(time.format(confirmedAt)), a local date of \(dayText) in \(schedule.timeZone.identifier); "
                + "the access data goes the next calendar day at \(schedule.sendAt): \(time.format(due))"
            if schedule.timeZone.secondsFromGMT(for: confirmedAt) != schedule.timeZone.secondsFromGMT(for: due) {
                text += "; the clocks change in between, the send time stays \(schedule.sendAt) local time"
            }
            if abs(due.timeIntervalSince(delivery.firstDueAt)) > 1 {
                text += " (stored due \(time.format(delivery.firstDueAt)): planned under another FLEXPOST_SEND_AT or zone)"
            }
            return text
        }
    }

    /// Whether the one-time password will be in the access data, and why (R2); nil for other kinds.
    public func oneTimePassword(_ delivery: Delivery, order: StoredOrder?) -> String? {
        guard delivery.kind == .accessData, !delivery.state.isFinal, let order else { return nil }
        let stored = order.sealedSecrets.contains { $0.purpose == SecretSealer.oneTimePasswordPurpose }
        let included = AccessDataMail.includesOneTimePassword(portalActive: order.portalActive, hasOneTimePassword: stored)
        if included {
            return "the one-time password will be in it: the portal account is not active (no activation known)"
        }
        if order.portalActive {
            let since = order.activatedAt.map { " since \(time.format($0))" } ?? ""
            return "no one-time password: the portal account is active\(since) (R2; decided again when the mail is sent)"
        }
        return "no one-time password: the order carried none"
    }
}
