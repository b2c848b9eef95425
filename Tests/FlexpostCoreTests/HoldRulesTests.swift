import FlexpostCore
import Foundation
import Testing

/// SPEC §8 decided from the holds in force alone: hold, release, cancelling one delivery.
@Suite struct HoldRulesTests {
    static let t0 = OrderLifecycleTests.t0

    static func hold(_ id: Int64, _ scope: HoldScope) -> Hold {
        Hold(id: id, scope: scope, actor: "ops", reason: "incident \(id)", since: t0)
    }

    static func request(_ scope: HoldScope) -> HoldRequest { HoldRequest(scope: scope, actor: "anna", reason: "relay down") }

    @Test("a scope covers what every part that is set matches; release lifts the holds within its scope")
    func scopes() {
        let access = HoldScope(kind: .accessData), order = HoldScope(orderId: "O"),
            both = HoldScope(kind: .accessData, orderId: "O")
        #expect(HoldScope.everything.covers(kind: .adminNotice, orderId: "X"))
        #expect(access.covers(kind: .accessData, orderId: "X") && !access.covers(kind: .adminNotice, orderId: "X"))
        #expect(order.covers(kind: .adminNotice, orderId: "O") && !order.covers(kind: .adminNotice, orderId: "P"))
        #expect(both.covers(kind: .accessData, orderId: "O") && !both.covers(kind: .accessData, orderId: "P")
            && !both.covers(kind: .adminNotice, orderId: "O"))
        #expect(HoldScope.everything.contains(both) && access.contains(both) && order.contains(both))
        #expect(!both.contains(access) && !access.contains(.everything) && !access.contains(order))
        #expect(access.overlaps(order) && !access.overlaps(HoldScope(kind: .adminNotice)))
        #expect([HoldScope.everything, access, order, both].map(\.description)
            == ["everything", "access-data", "order O", "access-data of order O"])
    }

    @Test("hold: a new scope is recorded and holds what it covers; the same scope again changes nothing; an unknown order is refused")
    func hold() {
        let decision = HoldRules.hold(Self.request(.init(kind: .accessData)), facts: HoldFacts(holds: [], orderKnown: true), at: Self.t0)
        #expect(decision.outcome == .held)
        #expect(decision.changes == [
            .addHold(Self.request(.init(kind: .accessData)), at: Self.t0),
            .holdCovered(note: HistoryEntry(at: Self.t0, actor: "anna", action: .held, detail: "access-data: relay down")),
        ])
        let existing = Self.hold(7, HoldScope(kind: .accessData))
        let again = HoldRules.hold(Self.request(.init(kind: .accessData)), facts: HoldFacts(holds: [existing], orderKnown: true),
                                   at: Self.t0)
        #expect(again == HoldDecision(.alreadyHeld(existing)))
        // A narrower scope under a broader hold is a hold of its own (it outlasts the broader one's release).
        let narrower = HoldRules.hold(Self.request(.init(kind: .accessData, orderId: "O")),
                                      facts: HoldFacts(holds: [existing], orderKnown: true), at: Self.t0)
        #expect(narrower.outcome == .held)
        let unknown = HoldRules.hold(Self.request(.init(orderId: "NOPE")), facts: HoldFacts(holds: [], orderKnown: false), at: Self.t0)
        #expect(unknown == HoldDecision(.unknownOrder))
    }

    @Test("release: lifts the holds within the scope, names the broader or overlapping ones that still hold")
    func release() {
        let all = Self.hold(1, .everything), access = Self.hold(2, HoldScope(kind: .accessData)),
            order = Self.hold(3, HoldScope(orderId: "O")), notices = Self.hold(4, HoldScope(kind: .adminNotice))
        let facts = HoldFacts(holds: [all, access, order, notices], orderKnown: true)
        let kind = HoldRules.release(Self.request(.init(kind: .accessData)), facts: facts, at: Self.t0)
        #expect(kind.outcome == .released(lifted: [access], stillHeldBy: [all, order]))
        #expect(kind.changes == [
            .removeHolds(ids: [2]),
            .releaseUncovered(note: HistoryEntry(at: Self.t0, actor: "anna", action: .released, detail: "access-data: relay down")),
        ])
        let everything = HoldRules.release(Self.request(.everything), facts: facts, at: Self.t0)
        #expect(everything.outcome == .released(lifted: [all, access, order, notices], stillHeldBy: []))
        let none = HoldRules.release(Self.request(.init(kind: .accessData, orderId: "P")),
                                     facts: HoldFacts(holds: [all, notices], orderKnown: true), at: Self.t0)
        #expect(none == HoldDecision(.nothingHeld(stillHeldBy: [all])))
    }

    @Test("a worker's claimed, unstarted deliveries that a hold covers are found")
    func coveredClaims() throws {
        let access = try OrderLifecycleTests.delivery(1, .accessData, .sending),
            notice = try OrderLifecycleTests.delivery(2, .adminNotice, .sending)
        #expect(HoldRules.covered([access, notice], by: [Self.hold(1, HoldScope(kind: .adminNotice))]) == [notice])
        #expect(HoldRules.covered([access, notice], by: []).isEmpty)
    }

    @Test("cancel one delivery: it ends cancelled; the secrets go with the last unsent access data; ended or in-flight ones are refused")
    func cancelDelivery() throws {
        let facts = OrderLifecycleTests.facts([
            try OrderLifecycleTests.delivery(1, .accessData, .scheduled),
            try OrderLifecycleTests.delivery(2, .adminNotice, .held),
            try OrderLifecycleTests.delivery(3, .adminNotice, .sent),
            try OrderLifecycleTests.delivery(4, .adminNotice, .sending),
        ])
        let request = { (id: Int64) in DeliveryCancellation(deliveryId: id, actor: "anna", reason: "wrong address") }
        let access = OrderLifecycle.cancelDelivery(request(1), facts: facts, at: Self.t0)
        #expect(access.outcome == nil)
        #expect(access.changes == [
            .finish(deliveryIds: [1], state: .cancelled, at: Self.t0),
            .destroySecrets(orderId: "O", at: Self.t0),
            .note(orderId: "O", HistoryEntry(at: Self.t0, actor: "anna", action: .deliveryCancelled,
                                             detail: "delivery 1 (access-data) by anna: wrong address; secrets destroyed")),
        ])
        let notice = OrderLifecycle.cancelDelivery(request(2), facts: facts, at: Self.t0)
        #expect(notice.outcome == nil && !notice.changes.contains(.destroySecrets(orderId: "O", at: Self.t0)))
        // Another unsent access-data delivery still needs the secrets.
        let twice = OrderLifecycleTests.facts([try OrderLifecycleTests.delivery(1, .accessData, .scheduled),
                                               try OrderLifecycleTests.delivery(5, .accessData, .retrying, resend: true)])
        #expect(!OrderLifecycle.cancelDelivery(request(1), facts: twice, at: Self.t0).changes
            .contains(.destroySecrets(orderId: "O", at: Self.t0)))
        #expect(OrderLifecycle.cancelDelivery(request(3), facts: facts, at: Self.t0).outcome == .alreadyEnded(.sent))
        #expect(OrderLifecycle.cancelDelivery(request(4), facts: facts, at: Self.t0).outcome == .beingSent)
        #expect(OrderLifecycle.cancelDelivery(request(9), facts: facts, at: Self.t0).outcome == .unknownDelivery)
        #expect(OrderLifecycle.cancelDelivery(request(1), facts: nil, at: Self.t0).outcome == .unknownDelivery)
    }

    @Test("R7: access data that is held has not been sent: a resend is refused like a scheduled one")
    func resendWhileHeld() throws {
        let facts = OrderLifecycleTests.facts([try OrderLifecycleTests.delivery(1, .accessData, .held)])
        let decision = OrderLifecycle.resend(ResendRequest(orderId: "O", kind: .accessData, actor: "a", reason: "r"),
                                             facts: facts, at: Self.t0, limitPerDay: 5, messageID: { "<m@x>" })
        #expect(decision.outcome == .stillScheduled(Self.t0))
    }
}
