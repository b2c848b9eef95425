import FlexpostCore
import Foundation
import Testing

/// SPEC §7 "why", from the same rules that schedule and compose.
@Suite struct DeliveryExplanationTests {
    static let berlin = TimeZone(identifier: "Europe/Berlin")!
    static let explanation = DeliveryExplanation(
        schedule: AccessDataSchedule(timeZone: berlin, sendAt: LocalTime("08:00")!), time: LocalDisplayTime(timeZone: berlin))

    static func stored(confirmedAt: String, active: Bool, otp: Bool, activatedAt: Date? = nil) throws -> StoredOrder {
        var object = Fixtures.eventObject("order-second-site.json")
        var data = object["data"] as! [String: Any]
        data["confirmedAt"] = confirmedAt
        object["data"] = data
        guard case .orderConfirmed(let order) = try EventDecoder().decode(Fixtures.bytes(object)).event else {
            throw CocoaError(.coderInvalidValue)
        }
        let sealed = otp ? [SealedSecret(purpose: SecretSealer.oneTimePasswordPurpose, keyId: "k", ciphertext: [1])] : []
        return StoredOrder(order: order, customerNumber: "5500123456", sealedSecrets: sealed, portalActive: active,
                           cancelled: false, secretsPurged: false, activatedAt: activatedAt)
    }

    static func delivery(_ kind: DeliveryKind, _ state: DeliveryState, due: String, resend: Bool = false) throws -> Delivery {
        var delivery = try OrderLifecycleTests.delivery(1, kind, state, resend: resend)
        delivery.dueAt = RFC3339.parse(due)!
        delivery.firstDueAt = delivery.dueAt
        delivery.attempts = state == .retrying ? 2 : 0
        delivery.lastReply = state == .retrying ? "451 4.7.1 try later" : nil
        return delivery
    }

    @Test("R1 in words: the local date, the next calendar day, the send time; a DST change in between is said")
    func accessData() throws {
        let order = try Self.stored(confirmedAt: "2026-11-30T15:12:00+01:00", active: true, otp: false)
        let why = Self.explanation.due(try Self.delivery(.accessData, .scheduled, due: "2026-12-01T07:00:00Z"), order: order, holds: [])
        #expect(why == "R1: confirmed 30.11.2026 15:12 MEZ, a local date of 30.11.2026 in Europe/Berlin; "
            + "the access data goes the next calendar day at 08:00: 01.12.2026 08:00 MEZ")
        // Confirmed the evening before the spring change: due at 08:00 summer time.
        let spring = try Self.stored(confirmedAt: "2026-03-28T20:00:00+01:00", active: true, otp: false)
        let dst = Self.explanation.due(try Self.delivery(.accessData, .scheduled, due: "2026-03-29T06:00:00Z"), order: spring, holds: [])
        #expect(dst?.hasSuffix("29.03.2026 08:00 MESZ; the clocks change in between, the send time stays 08:00 local time") == true,
                "\(dst ?? "")")
    }

    @Test("notices, resends, retries, holds and the one-time password (R2) in words; nothing for an ended delivery")
    func others() throws {
        let order = try Self.stored(confirmedAt: "2026-11-30T15:12:00+01:00", active: false, otp: true)
        #expect(Self.explanation.due(try Self.delivery(.adminNotice, .scheduled, due: "2026-11-30T14:12:00Z"), order: order, holds: [])
            == "administrator notices go at once (R3): due when the order came in, 30.11.2026 15:12 MEZ")
        #expect(Self.explanation.due(try Self.delivery(.accessData, .scheduled, due: "2026-12-02T09:00:00Z", resend: true),
                                     order: order, holds: [])?.hasPrefix("a resend (R7): due when support asked for it") == true)
        #expect(Self.explanation.due(try Self.delivery(.adminNotice, .retrying, due: "2026-12-01T09:00:00Z"), order: order, holds: [])?
            .hasPrefix("attempt 2 did not get through (451 4.7.1 try later); tried again at 01.12.2026 10:00 MEZ") == true)
        let hold = Hold(id: 1, scope: HoldScope(kind: .accessData), actor: "ops", reason: "relay down",
                        since: RFC3339.parse("2026-12-01T06:00:00Z")!)
        #expect(Self.explanation.due(try Self.delivery(.accessData, .held, due: "2026-12-01T07:00:00Z"), order: order, holds: [hold])?
            .hasPrefix("held: access-data, since 01.12.2026 07:00 MEZ by ops: relay down") == true)
        #expect(Self.explanation.due(try Self.delivery(.accessData, .sent, due: "2026-12-01T07:00:00Z"), order: order, holds: []) == nil)

        let access = try Self.delivery(.accessData, .scheduled, due: "2026-12-01T07:00:00Z")
        #expect(Self.explanation.oneTimePassword(access, order: order)
            == "the one-time password will be in it: the portal account is not active (no activation known)")
        let active = try Self.stored(confirmedAt: "2026-11-30T15:12:00+01:00", active: true, otp: true,
                                     activatedAt: RFC3339.parse("2026-11-30T16:00:00Z"))
        #expect(Self.explanation.oneTimePassword(access, order: active)
            == "no one-time password: the portal account is active since 30.11.2026 17:00 MEZ (R2; decided again when the mail is sent)")
        #expect(Self.explanation.oneTimePassword(access, order: try Self.stored(confirmedAt: "2026-11-30T15:12:00+01:00",
                                                                                active: false, otp: false))
            == "no one-time password: the order carried none")
        #expect(Self.explanation.oneTimePassword(try Self.delivery(.adminNotice, .scheduled, due: "2026-12-01T07:00:00Z"),
                                                 order: order) == nil)
    }

    @Test("the same reasons in German, from the same rules: the times and the decision do not change with the language")
    func german() throws {
        let german = Self.explanation.in(.german)
        let order = try Self.stored(confirmedAt: "2026-11-30T15:12:00+01:00", active: false, otp: true)
        let access = try Self.delivery(.accessData, .scheduled, due: "2026-12-01T07:00:00Z")
        #expect(german.due(access, order: order, holds: [])
            == "R1: bestätigt 30.11.2026 15:12 MEZ, das ist der 30.11.2026 in Europe/Berlin; "
            + "die Zugangsdaten gehen am nächsten Kalendertag um 08:00: 01.12.2026 08:00 MEZ")
        #expect(german.oneTimePassword(access, order: order)
            == "das Einmalpasswort ist dabei: das Portalkonto ist nicht aktiv (keine Aktivierung bekannt)")
        let held = try Self.delivery(.accessData, .held, due: "2026-12-01T07:00:00Z")
        let hold = Hold(id: 1, scope: HoldScope(orderId: held.orderId), actor: "ops", reason: "Relais gestört",
                        since: RFC3339.parse("2026-12-01T06:00:00Z")!)
        #expect(german.due(held, order: order, holds: [hold])?
            .hasPrefix("angehalten: Auftrag \(held.orderId), seit 01.12.2026 07:00 MEZ von ops: Relais gestört") == true)
        #expect(german.due(try Self.delivery(.adminNotice, .scheduled, due: "2026-11-30T14:12:00Z"), order: order, holds: [])
            == "Administrator-Hinweise gehen sofort (R3): fällig beim Eingang des Auftrags, 30.11.2026 15:12 MEZ")
    }
}

/// SPEC §7: the console's language follows the browser's `Accept-Language`.
@Suite struct UILanguageTests {
    @Test("the most preferred language the console has; English when none fits")
    func preferred() {
        #expect(UILanguage.preferred(acceptLanguage: nil) == .english)
        #expect(UILanguage.preferred(acceptLanguage: "de-DE,de;q=0.9,en-US;q=0.8,en;q=0.7") == .german)
        #expect(UILanguage.preferred(acceptLanguage: "en-GB,en;q=0.9,de;q=0.8") == .english)
        #expect(UILanguage.preferred(acceptLanguage: "fr-FR, fr;q=0.9, de;q=0.5") == .german)
        #expect(UILanguage.preferred(acceptLanguage: "fr, it") == .english)
        #expect(UILanguage.preferred(acceptLanguage: "de;q=0, en;q=0.1") == .english)
        #expect(UILanguage.preferred(acceptLanguage: "en;q=0.2, DE-at;q=0.8") == .german)
        #expect(UILanguage.preferred(acceptLanguage: "de;q=abc") == .english)
        #expect(UILanguage.preferred(acceptLanguage: ";;,,") == .english)
    }
}
