import Foundation

/// SPEC §7 "why": for a delivery not yet sent, why it is due when it is, and
/// for access data whether the one-time password will be in it, in words for
/// support. Computed by the rules that schedule (``AccessDataSchedule``) and
/// compose (``AccessDataMail/includesOneTimePassword(portalActive:hasOneTimePassword:)``),
/// never a second copy of them. In English or German, as the console's reader prefers.
public struct DeliveryExplanation: Sendable {
    public let schedule: AccessDataSchedule
    public let time: LocalDisplayTime
    public let language: UILanguage

    public init(schedule: AccessDataSchedule, time: LocalDisplayTime, language: UILanguage = .english) {
        self.schedule = schedule
        self.time = time
        self.language = language
    }

    /// The same explanation in another language.
    public func `in`(_ language: UILanguage) -> DeliveryExplanation {
        DeliveryExplanation(schedule: schedule, time: time, language: language)
    }

    func say(_ english: String, _ german: String) -> String { language == .german ? german : english }

    /// Why the delivery is due then; nil for one that ended.
    public func due(_ delivery: Delivery, order: StoredOrder?, holds: [Hold]) -> String? {
        guard !delivery.state.isFinal else { return nil }
        if let hold = holds.first(where: { $0.scope.covers(delivery) }), delivery.state == .held {
            let (due, summary) = (time.format(delivery.dueAt), hold.summary(in: language, time: time))
            return say("held: \(summary); when released it is due \(due), at once if that has passed",
                       "angehalten: \(summary); nach der Freigabe fällig \(due), sofort, wenn das vorbei ist")
        }
        switch delivery.state {
        case .sending: return say("being sent right now", "wird gerade gesendet")
        case .retrying:
            let reply = delivery.lastReply ?? say("no reply", "keine Antwort")
            let (due, first) = (time.format(delivery.dueAt), time.format(delivery.firstDueAt))
            return say("attempt \(delivery.attempts) did not get through (\(reply)); "
                       + "tried again at \(due), until the retry lifetime from \(first) runs out",
                       "Versuch \(delivery.attempts) kam nicht durch (\(reply)); neuer Versuch \(due), "
                       + "bis die Wiederholungsfrist ab \(first) abläuft")
        default: break
        }
        let first = time.format(delivery.firstDueAt)
        if delivery.isResend {
            return say("a resend (R7): due when support asked for it, \(first)",
                       "erneuter Versand (R7): fällig, als der Support ihn anforderte, \(first)")
        }
        switch delivery.kind {
        case .adminNotice:
            return say("administrator notices go at once (R3): due when the order came in, \(first)",
                       "Administrator-Hinweise gehen sofort (R3): fällig beim Eingang des Auftrags, \(first)")
        case .accessData:
            guard let confirmedAt = order?.order?.confirmedAt else { return say("due \(first)", "fällig \(first)") }
            let due = schedule.dueDate(confirmedAt: confirmedAt)
            var calendar = Calendar(identifier: .gregorian)
            calendar.timeZone = schedule.timeZone
            let day = calendar.dateComponents([.year, .month, .day], from: confirmedAt)
            let dayText = String(format: "%02d.%02d.%04d", day.day ?? 0, day.month ?? 0, day.year ?? 0)
            let (confirmed, zone, sendAt, dueText) = (time.format(confirmedAt), schedule.timeZone.identifier, schedule.sendAt, time.format(due))
            var text = say("R1: confirmed \(confirmed), a local date of \(dayText) in \(zone); "
                           + "the access data goes the next calendar day at \(sendAt): \(dueText)",
                           "R1: bestätigt \(confirmed), das ist der \(dayText) in \(zone); "
                           + "die Zugangsdaten gehen am nächsten Kalendertag um \(sendAt): \(dueText)")
            if schedule.timeZone.secondsFromGMT(for: confirmedAt) != schedule.timeZone.secondsFromGMT(for: due) {
                text += say("; the clocks change in between, the send time stays \(sendAt) local time",
                            "; dazwischen wird die Uhr umgestellt, die Sendezeit bleibt \(sendAt) Ortszeit")
            }
            if abs(due.timeIntervalSince(delivery.firstDueAt)) > 1 {
                text += say(" (stored due \(first): planned under another FLEXPOST_SEND_AT or zone)",
                            " (gespeichert fällig \(first): geplant mit anderem FLEXPOST_SEND_AT oder anderer Zone)")
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
            return say("the one-time password will be in it: the portal account is not active (no activation known)",
                       "das Einmalpasswort ist dabei: das Portalkonto ist nicht aktiv (keine Aktivierung bekannt)")
        }
        if order.portalActive {
            let since = order.activatedAt.map { time.format($0) }
            return say("no one-time password: the portal account is active\(since.map { " since \($0)" } ?? "") "
                       + "(R2; decided again when the mail is sent)",
                       "kein Einmalpasswort: das Portalkonto ist aktiv\(since.map { " seit \($0)" } ?? "") "
                       + "(R2; beim Senden neu entschieden)")
        }
        return say("no one-time password: the order carried none", "kein Einmalpasswort: der Auftrag enthielt keins")
    }
}
