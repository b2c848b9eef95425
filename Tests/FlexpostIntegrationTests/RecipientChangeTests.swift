import FlexpostCore
import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §6 recipient corrections, signed events from the order system, on
/// both stores: unsent mail re-addressed, later resends to the new
/// recipients, old and new address in the history.
@Suite("recipient corrections")
struct RecipientChangeTests {
    static func contactChanged(_ email: String, name: String = "Erika Neu", at changedAt: String) -> [UInt8] {
        Array(#"{"type":"customer.contact.changed","timestamp":"\#(changedAt)","data":{"customerNumber":"5500123456","contact":{"name":"\#(name)","email":"\#(email)"},"changedAt":"\#(changedAt)"}}"#.utf8)
    }

    static func administratorsChanged(_ emails: [String], at changedAt: String) -> [UInt8] {
        let list = emails.map { #"{"name":"Admin \#($0.prefix(3))","email":"\#($0)"}"# }.joined(separator: ",")
        return Array(#"{"type":"portal.administrators.changed","timestamp":"\#(changedAt)","data":{"customerNumber":"5500123456","administrators":[\#(list)],"changedAt":"\#(changedAt)"}}"#.utf8)
    }

    @Test("the contact and the administrators corrected: unsent mail re-addressed, history says old and new, idempotent and ordered; a later resend goes to the new contact",
          arguments: StoreKind.allCases)
    func corrections(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store, at: "2026-11-30T15:00:00Z")
        #expect(try await intake.submit(StoreConformance.fixture("order-second-site.json")).line.hasPrefix("accepted"))
        let before = try await store.deliveries(orderId: "ORD-2026-004711")
        #expect(before.map(\.recipient.email.value).sorted()
            == ["bsp-admin@mueller-logistik.example", "erika.mueller@mueller-logistik.example"])

        let change = Self.contactChanged("erika.neu@mueller-logistik.example", at: "2026-11-30T16:00:00Z")
        #expect(try await intake.submit(change).line == "accepted customer.contact.changed 5500123456@2026-11-30T16:00:00Z")
        #expect(try await intake.submit(change).line.hasPrefix("duplicate customer.contact.changed"))
        #expect(try await intake.submit(Self.contactChanged("other@mueller-logistik.example", at: "2026-11-30T16:00:00Z")).line
            .hasPrefix("conflict customer.contact.changed"))
        var access = try #require(try await store.deliveries(orderId: "ORD-2026-004711").first { $0.kind == .accessData })
        #expect(access.recipient == Contact(name: "Erika Neu", email: try EmailAddress(validating: "erika.neu@mueller-logistik.example")))
        #expect(access.messageID == before.first { $0.kind == .accessData }?.messageID, "the same delivery, re-addressed")
        let history = try await store.history(orderId: "ORD-2026-004711")
        #expect(history.contains { $0.action == .recipientsChanged && $0.actor == "order-system"
            && $0.detail.hasPrefix("access-data to erika.neu@mueller-logistik.example (was erika.mueller@mueller-logistik.example)") },
                "\(history.map(\.detail))")
        // An older correction that arrives late changes nothing.
        #expect(try await intake.submit(Self.contactChanged("old@mueller-logistik.example", at: "2026-11-30T15:30:00Z")).line
            .hasPrefix("accepted"))
        access = try #require(try await store.deliveries(orderId: "ORD-2026-004711").first { $0.kind == .accessData })
        #expect(access.recipient.email.value == "erika.neu@mueller-logistik.example")

        // Two administrators instead of one: the unsent notice is replaced by two, due when it was.
        let oldNotice = try #require(before.first { $0.kind == .adminNotice })
        #expect(try await intake.submit(Self.administratorsChanged(["it-1@mueller-logistik.example", "it-2@mueller-logistik.example"],
                                                                   at: "2026-11-30T16:05:00Z")).line.hasPrefix("accepted"))
        let notices = try await store.deliveries(orderId: "ORD-2026-004711").filter { $0.kind == .adminNotice }
        #expect(notices.first { $0.id == oldNotice.id }?.state == .cancelled)
        let fresh = notices.filter { $0.state == .scheduled }
        #expect(fresh.map(\.recipient.email.value).sorted() == ["it-1@mueller-logistik.example", "it-2@mueller-logistik.example"])
        #expect(fresh.allSatisfy { $0.dueAt == oldNotice.dueAt && $0.messageID != oldNotice.messageID })

        // Sent, then resent: to the contact the order system last gave.
        let morning = RFC3339.parse("2026-12-01T07:00:00Z")!
        let claimed = try await store.claimDue(at: morning, limit: 10, lease: StoreConformance.lease("w", morning))
        for delivery in claimed {
            #expect(try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: morning, finishedAt: morning, nextState: .sent, retryAt: nil, replyCode: 250, reply: "250 ok")))
        }
        #expect(try await intake.submit(Self.contactChanged("erika.spaeter@mueller-logistik.example", at: "2026-12-01T09:00:00Z")).line
            .hasPrefix("accepted"))
        #expect(try await store.deliveries(orderId: "ORD-2026-004711").first { $0.kind == .accessData }?.recipient.email.value
            == "erika.neu@mueller-logistik.example", "a sent delivery keeps the address it went to")
        let resend = try await store.resend(ResendRequest(orderId: "ORD-2026-004711", kind: .accessData, actor: "anna", reason: "lost"),
                                            at: morning.addingTimeInterval(7_200), limitPerDay: 5, messageID: { "<r-1@companyflex.example>" })
        guard case .scheduled(let resent) = resend else { Issue.record("\(resend)"); return }
        #expect(resent.map(\.recipient.email.value) == ["erika.spaeter@mueller-logistik.example"])
    }

    @Test("a correction is validated like any event: the field and the rule are named, nothing is stored")
    func validation() async throws {
        let store = try await TestStores.make(.sqlite)
        let intake = TestStores.intake(store)
        let noEmail = Array(#"{"type":"customer.contact.changed","timestamp":"2026-11-30T16:00:00Z","data":{"customerNumber":"5500123456","contact":{"name":"X"},"changedAt":"2026-11-30T16:00:00Z"}}"#.utf8)
        #expect(try await intake.submit(noEmail).line.contains("data.contact.email"))
        let none = Self.administratorsChanged([], at: "2026-11-30T16:00:00Z")
        #expect(try await intake.submit(none).line.contains("data.administrators"))
        let bad = Self.administratorsChanged(["not an address"], at: "2026-11-30T16:00:00Z")
        #expect(try await intake.submit(bad).line.contains("data.administrators[0].email"))
        #expect(try await store.countsByState().isEmpty)
    }

    @Test("search: every kind of term finds the order, newest first; a corrected address finds it too; after an erasure only ids do",
          arguments: StoreKind.allCases)
    func search(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store, at: "2026-11-30T15:00:00Z")
        #expect(try await intake.submit(StoreConformance.fixture("order-second-site.json")).line.hasPrefix("accepted"))
        let later = EventEditing.data("order-second-site.json", [("data.orderId", "ORD-2026-004799")])
        #expect(try await TestStores.intake(store, at: "2026-11-30T16:00:00Z").submit(Array(later)).line.hasPrefix("accepted"))
        func found(_ query: String) async throws -> [String] {
            try await store.searchOrders(term: OrderSearch.term(query), limit: 10).map(\.orderId)
        }
        #expect(try await found("5500123456") == ["ORD-2026-004799", "ORD-2026-004711"], "newest first")
        #expect(try await found("ord-2026-004711") == ["ORD-2026-004711"])
        #expect(try await found("Erika.Mueller@mueller-logistik.example").count == 2)
        #expect(try await found("+49 221 4711002").count == 2)
        #expect(try await found("0221 4711002").count == 2)
        #expect(try await found("SP-300401").count == 2)
        #expect(try await found("nobody@example.com").isEmpty)
        #expect(try await intake.submit(Self.contactChanged("erika.neu@mueller-logistik.example", at: "2026-11-30T17:00:00Z")).line
            .hasPrefix("accepted"))
        #expect(try await found("erika.neu@mueller-logistik.example").count == 2)
        _ = try await store.erase(ErasureRequest(customerNumber: "5500123456", actor: "dpo", reason: "Art. 17"),
                                  at: RFC3339.parse("2026-12-01T00:00:00Z")!)
        let byMail = try await found("erika.mueller@mueller-logistik.example"), byPhone = try await found("0221 4711002")
        #expect(byMail.isEmpty && byPhone.isEmpty)
        let byOrder = try await found("ORD-2026-004711"), byCustomer = try await found("5500123456")
        #expect(byOrder == ["ORD-2026-004711"] && byCustomer.count == 2, "ids still find the erased orders")
    }
}
