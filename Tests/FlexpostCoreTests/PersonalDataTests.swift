import FlexpostCore
import Foundation
import Testing

/// SPEC §8 personal-data retention and erasure, decided from an order's facts alone.
@Suite struct PersonalDataTests {
    static let t0 = OrderLifecycleTests.t0
    static let day = 86_400.0

    static func ended(_ id: Int64, _ kind: DeliveryKind, _ state: DeliveryState, _ at: Date,
                      to email: String = "a@x.example") throws -> Delivery {
        try OrderLifecycleTests.delivery(id, kind, state, to: email, finishedAt: at)
    }

    @Test("retention: due once every delivery ended that long ago; an unsent delivery or an erased order is never due")
    func retention() throws {
        let retention = PersonalDataRetention(days: 365)
        let lastEnd = Self.t0.addingTimeInterval(10 * Self.day)
        let order = OrderLifecycleTests.facts([try Self.ended(1, .accessData, .sent, Self.t0),
                                               try Self.ended(2, .adminNotice, .dead, lastEnd)])
        #expect(!retention.expired(order, at: lastEnd.addingTimeInterval(365 * Self.day)))
        #expect(retention.expired(order, at: lastEnd.addingTimeInterval(365 * Self.day + 1)))
        let waiting = OrderLifecycleTests.facts([try Self.ended(1, .accessData, .sent, Self.t0),
                                                 try OrderLifecycleTests.delivery(2, .adminNotice, .held)])
        #expect(!retention.expired(waiting, at: Self.t0.addingTimeInterval(3_000 * Self.day)))
        // Services only (R4): nothing was sent; counted from when the order came in.
        let nothing = OrderLifecycleTests.facts([], holdsSecrets: false, receivedAt: Self.t0)
        #expect(retention.expired(nothing, at: Self.t0.addingTimeInterval(366 * Self.day)))
        let erased = OrderLifecycleTests.facts([], holdsSecrets: false, erasedAt: Self.t0)
        #expect(!retention.expired(erased, at: Self.t0.addingTimeInterval(3_000 * Self.day)))

        let at = lastEnd.addingTimeInterval(366 * Self.day)
        let decision = retention.erase([order, waiting], at: at)
        #expect(decision.outcome == 1)
        #expect(decision.changes == [
            .destroySecrets(orderId: "O", at: at),
            .erasePersonalData(orderId: "O", quoted: ["N a@x.example", "a@x.example"], blanked: [.confirmed, .recipientsChanged],
                               keptTerms: ["o", "c"], at: at),
            .note(orderId: "O", HistoryEntry(at: at, actor: "flexpost", action: .personalDataErased,
                                             detail: "personal data erased after the retention period (365 days)")),
        ])
    }

    @Test("on request: unsent mail cancelled, secrets and personal data erased, who and why recorded; an erased order is left alone")
    func onRequest() throws {
        let request = ErasureRequest(customerNumber: "C", actor: "dpo", reason: "Art. 17 request")
        let open = OrderLifecycleTests.facts([try Self.ended(1, .adminNotice, .sent, Self.t0, to: "admin@x.example"),
                                              try OrderLifecycleTests.delivery(2, .accessData, .scheduled, to: "c@x.example")])
        var erasedBefore = OrderLifecycleTests.facts([], holdsSecrets: false, erasedAt: Self.t0)
        erasedBefore.orderId = "P"
        let decision = PersonalDataErasure.erase(request, facts: [open, erasedBefore], at: Self.t0)
        #expect(decision.outcome == ErasureOutcome(erased: 1, alreadyErased: 1, cancelled: 1))
        #expect(decision.changes == [
            .finish(deliveryIds: [2], state: .cancelled, at: Self.t0),
            .destroySecrets(orderId: "O", at: Self.t0),
            .erasePersonalData(orderId: "O", quoted: ["N admin@x.example", "admin@x.example", "N c@x.example", "c@x.example"],
                               blanked: [.confirmed, .recipientsChanged], keptTerms: ["o", "c"], at: Self.t0),
            .note(orderId: "O", HistoryEntry(at: Self.t0, actor: "dpo", action: .personalDataErased,
                                             detail: "personal data erased on request: Art. 17 request; 1 unsent deliveries cancelled")),
            .eraseCustomerRecipients(customerNumber: "C"),
        ])
        #expect(PersonalDataErasure.erase(request, facts: [erasedBefore], at: Self.t0).changes
            == [.eraseCustomerRecipients(customerNumber: "C")], "asked again: the customer's recipients are gone too, nothing else")
    }

    @Test("R7 after an erasure: refused, nobody is left to send to")
    func resendAfterErasure() {
        let facts = OrderLifecycleTests.facts([], holdsSecrets: false, erasedAt: Self.t0)
        let decision = OrderLifecycle.resend(ResendRequest(orderId: "O", kind: .adminNotice, actor: "a", reason: "r"),
                                             facts: facts, at: Self.t0, limitPerDay: 5, messageID: { "<m@x>" })
        #expect(decision.outcome == .personalDataErased(Self.t0))
    }

    @Test("an erased recipient reads back as erased, never as an address")
    func erasedContact() throws {
        #expect(try Contact.stored(name: "", email: "") == .erased)
        #expect(Contact.erased.email.isErased)
        #expect(try Contact.stored(name: "N", email: "a@x.example").email.value == "a@x.example")
        #expect(throws: EmailAddressError.self) { try Contact.stored(name: "N", email: "not an address") }
    }
}
