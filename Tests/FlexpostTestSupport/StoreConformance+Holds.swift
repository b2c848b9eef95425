import FlexpostApp
import FlexpostCore
import FlexpostEngine
import Foundation
import Testing

// MARK: - Holds, cancelling one delivery, delivery events

extension StoreConformance {
    static func holdRequest(_ scope: HoldScope, _ reason: String = "relay incident") -> HoldRequest {
        HoldRequest(scope: scope, actor: "anna", reason: reason)
    }

    static func holdAndRelease(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        _ = try await intake.submit(StoreConformance.fixture("order-second-site.json"))  // 4711: access data + notice
        _ = try await intake.submit(StoreConformance.fixture("order-new-customer.json"))  // 4800: access data
        // One access-data delivery has been tried once and waits for its retry.
        let morning = RFC3339.parse("2026-12-01T07:00:00Z")!
        let claimed = try await store.claimDue(at: morning, limit: 10, lease: StoreConformance.lease("w", morning))
        let retried = try #require(claimed.first { $0.orderId == "ORD-2026-004800" })
        let retryAt = morning.addingTimeInterval(600)
        #expect(try await store.complete(deliveryId: retried.id, owner: "w", attempt: AttemptRecord(
            startedAt: morning, finishedAt: morning, nextState: .retrying, retryAt: retryAt, replyCode: 451, reply: "451 later")))
        try await store.releaseClaims(owner: "w")

        let held = try await store.hold(Self.holdRequest(HoldScope(kind: .accessData)), at: morning)
        #expect(held.outcome == .held && held.held == 2)
        #expect(try await store.holds().map(\.scope) == [HoldScope(kind: .accessData)])
        let late = morning.addingTimeInterval(86_400)
        let other = try await store.claimDue(at: late, limit: 10, lease: StoreConformance.lease("w", late))
        #expect(other.map(\.kind) == [.adminNotice], "only what the hold does not cover is claimed")
        try await store.releaseClaims(owner: "w")
        #expect(try await store.countsByState()[.held] == 2)
        let notice = try #require(try await store.deliveries(orderId: "ORD-2026-004711").first { $0.kind == .adminNotice })
        #expect(try await store.oldestWaitingDue(at: late) == notice.dueAt, "held mail is not waiting (no lateness alarm)")
        // What arrives while the hold lasts is held at once; the rest of the order is not.
        _ = try await TestStores.intake(store, at: "2026-12-01T07:30:00Z")
            .submit(StoreConformance.fixture("order-second-base-package.json"))
        let arrived = try await store.deliveries(orderId: "ORD-2026-004712")
        #expect(arrived.filter { $0.kind == .accessData }.allSatisfy { $0.state == .held })
        #expect(arrived.filter { $0.kind == .adminNotice }.allSatisfy { $0.state == .scheduled })
        #expect(try await store.countsByState()[.held] == 3)

        // The same hold again changes nothing; an order the queue does not know is refused.
        let again = try await store.hold(Self.holdRequest(HoldScope(kind: .accessData), "again"), at: late)
        guard case .alreadyHeld(let existing) = again.outcome else { Issue.record("\(again)"); return }
        #expect(existing.actor == "anna" && existing.reason == "relay incident" && existing.since == morning)
        #expect(try await store.hold(Self.holdRequest(HoldScope(orderId: "NOPE")), at: late).outcome == .unknownOrder)

        // Everything held, then one kind released: the broader hold still holds it.
        let counts = try await store.countsByState()
        let waiting = (counts[.scheduled] ?? 0) + (counts[.retrying] ?? 0), total = waiting + 3
        #expect(waiting >= 2)
        #expect(try await store.hold(Self.holdRequest(.everything, "template deploy"), at: late).held == waiting)
        let partial = try await store.release(Self.holdRequest(HoldScope(kind: .accessData), "relay back"), at: late)
        guard case .released(let lifted, let still) = partial.outcome else { Issue.record("\(partial)"); return }
        #expect(lifted.map(\.scope) == [HoldScope(kind: .accessData)] && still.map(\.scope) == [.everything])
        let stillHeld = try await store.countsByState()[.held]
        #expect(partial.released == 0 && stillHeld == total)
        #expect(try await store.claimDue(at: late, limit: 10, lease: StoreConformance.lease("w", late)).isEmpty)

        let all = try await store.release(Self.holdRequest(.everything, "all clear"), at: late)
        let remaining = try await store.holds()
        #expect(all.released == total && remaining.isEmpty)
        let back = try await store.deliveries(orderId: "ORD-2026-004800")
        #expect(back.map(\.state) == [.retrying] && back.first?.dueAt == retryAt, "back to its state, due at its time")
        #expect(try await store.deliveries(orderId: "ORD-2026-004711").allSatisfy { $0.state == .scheduled })
        let history = try await store.history(orderId: "ORD-2026-004711")
        #expect(history.contains { $0.action == .held && $0.actor == "anna" && $0.detail == "access-data: relay incident" })
        #expect(history.contains { $0.action == .released && $0.actor == "anna" && $0.detail == "everything: all clear" })
        let nothing = try await store.release(Self.holdRequest(.everything), at: late)
        #expect(nothing.outcome == .nothingHeld(stillHeldBy: []) && nothing.released == 0)
        let due = try await store.claimDue(at: late, limit: 10, lease: StoreConformance.lease("w", late))
        #expect(due.count == total)
    }

    static func claimsUnderAHold(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        _ = try await TestStores.intake(store).submit(StoreConformance.fixture("order-second-site.json"))
        let morning = RFC3339.parse("2026-12-01T07:00:00Z")!
        let claimed = try await store.claimDue(at: morning, limit: 10, lease: StoreConformance.lease("w", morning))
        #expect(claimed.count == 2)
        #expect(try await store.hold(Self.holdRequest(.everything), at: morning).held == 0, "claimed ones are the worker's")
        let notice = try #require(claimed.first { $0.kind == .adminNotice })
        try await store.holdClaims([notice.id], owner: "w", note: HoldRules.claimGivenBack(at: morning))
        try await store.holdClaims([notice.id], owner: "other", note: HoldRules.claimGivenBack(at: morning))
        let states = try await store.deliveries(orderId: "ORD-2026-004711")
        #expect(states.first { $0.id == notice.id }.map { ($0.state, $0.attempts) } ?? (.dead, -1) == (.held, 0))
        // The other claim's worker vanished: its lease lapses, but the hold keeps it.
        let later = morning.addingTimeInterval(3_600)
        #expect(try await store.claimDue(at: later, limit: 10, lease: StoreConformance.lease("v", later)).isEmpty)
        _ = try await store.release(Self.holdRequest(.everything), at: later)
        let free = try await store.claimDue(at: later, limit: 10, lease: StoreConformance.lease("v", later))
        #expect(Set(free.map(\.id)) == Set(claimed.map(\.id)))
        #expect(free.first { $0.id == notice.id }?.attempts == 1, "the given-back claim was not counted as an attempt")
    }

    static func cancelOne(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        _ = try await TestStores.intake(store).submit(StoreConformance.fixture("order-second-site.json"))
        let deliveries = try await store.deliveries(orderId: "ORD-2026-004711")
        let access = try #require(deliveries.first { $0.kind == .accessData }),
            notice = try #require(deliveries.first { $0.kind == .adminNotice })
        let at = Self.t0
        let cancel = { (id: Int64) in DeliveryCancellation(deliveryId: id, actor: "anna", reason: "customer asked") }
        #expect(try await store.cancelDelivery(cancel(notice.id), at: at) == nil)
        #expect(try await store.storedOrder("ORD-2026-004711")?.sealedSecrets.isEmpty == false, "a notice needs no secrets")
        #expect(try await store.cancelDelivery(cancel(notice.id), at: at) == .alreadyEnded(.cancelled))
        #expect(try await store.cancelDelivery(cancel(access.id), at: at) == nil)
        let order = try #require(try await store.storedOrder("ORD-2026-004711"))
        #expect(order.sealedSecrets.isEmpty && order.secretsPurged)
        #expect(try await store.deliveries(orderId: "ORD-2026-004711").allSatisfy { $0.state == .cancelled && $0.finishedAt == at })
        let history = try await store.history(orderId: "ORD-2026-004711").filter { $0.action == .deliveryCancelled }
        #expect(history.count == 2 && history.allSatisfy { $0.actor == "anna" && $0.detail.hasSuffix("customer asked")
            || $0.detail.hasSuffix("customer asked; secrets destroyed") })
        #expect(try await store.cancelDelivery(cancel(999_999), at: at) == .unknownDelivery)
        #expect(try await store.orderId(ofDelivery: access.id) == "ORD-2026-004711")
    }

    /// Ends of every kind: a notice sent and access data dead, a retry (no end), an order cancelled (R5).
    static func endSome(_ store: any QueueStore) async throws {
        let intake = TestStores.intake(store)
        _ = try await intake.submit(StoreConformance.fixture("order-second-site.json"))
        for delivery in try await store.claimDue(at: t0, limit: 10, lease: StoreConformance.lease("w", t0)) {
            let sent = delivery.kind == .adminNotice
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: t0, finishedAt: t0, nextState: sent ? .sent : .dead, retryAt: nil,
                replyCode: sent ? 250 : 550, reply: sent ? "ok" : "no such user"))
        }
        // A retry is no end: no event.
        _ = try await intake.submit(StoreConformance.fixture("order-new-customer.json"))
        for delivery in try await store.claimDue(at: t0, limit: 10, lease: StoreConformance.lease("w", t0)) {
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: t0, finishedAt: t0, nextState: .retrying, retryAt: t0.addingTimeInterval(600), replyCode: 451, reply: "later"))
        }
        // R5 ends the rest of an order: cancelled.
        _ = try await intake.submit(StoreConformance.fixture("order-second-base-package.json"))
        _ = try await intake.submit(Array(EventEditing.data("order-cancelled.json", [("data.orderId", "ORD-2026-004712")])))
    }

    static func eventOutbox(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind, deliveryEvents: true)
        try await Self.endSome(store)
        let now = Self.t0.addingTimeInterval(3_600)
        let claimed = try await store.claimDeliveryEvents(at: now, leaseUntil: now.addingTimeInterval(60), limit: 50)
        let types = claimed.map { "\($0.orderId) \($0.kind.rawValue) \($0.record.type.rawValue)" }.sorted()
        #expect(types.filter { $0.hasPrefix("ORD-2026-004711") } == ["ORD-2026-004711 access-data delivery.dead",
                                                                     "ORD-2026-004711 admin-notice delivery.sent"], "\(types)")
        #expect(!types.contains { $0.hasPrefix("ORD-2026-004800") }, "a retry makes no event")
        let cancelled = claimed.filter { $0.orderId == "ORD-2026-004712" }
        #expect(!cancelled.isEmpty && cancelled.allSatisfy { $0.record.type == .cancelled && $0.customerNumber == "5500123456" })
        let dead = try #require(claimed.first { $0.record.type == .dead })
        #expect(dead.record.detail == "550 no such user" && dead.recipient == "erika.mueller@mueller-logistik.example"
            && dead.attempts == 0 && dead.record.webhookId == "msg_delivery_\(dead.record.deliveryId)_dead")
        #expect(try await store.deliveryEventCounts() == (pending: claimed.count, failed: 0))

        // Leased: not handed out again until the lease ends.
        #expect(try await store.claimDeliveryEvents(at: now.addingTimeInterval(30), leaseUntil: now.addingTimeInterval(90), limit: 50).isEmpty)
        // Taken: deleted. Failed: due again at the time given. Given up: never again.
        let sent = try #require(claimed.first { $0.record.type == .sent })
        try await store.deliveryEventDelivered(webhookId: sent.record.webhookId)
        try await store.deliveryEventFailed(webhookId: dead.record.webhookId, nextAt: now.addingTimeInterval(300), error: "HTTP 503")
        let givenUp = try #require(cancelled.first)
        try await store.deliveryEventFailed(webhookId: givenUp.record.webhookId, nextAt: nil, error: "HTTP 500")
        #expect(try await store.deliveryEventCounts() == (pending: claimed.count - 2, failed: 1))
        let afterLease = try await store.claimDeliveryEvents(at: now.addingTimeInterval(61), leaseUntil: now.addingTimeInterval(1_000), limit: 50)
        #expect(Set(afterLease.map(\.record.webhookId)) == Set(claimed.map(\.record.webhookId))
            .subtracting([sent.record.webhookId, dead.record.webhookId, givenUp.record.webhookId]))
        let retried = try await store.claimDeliveryEvents(at: now.addingTimeInterval(300), leaseUntil: now.addingTimeInterval(360), limit: 50)
        #expect(retried.map(\.record.webhookId) == [dead.record.webhookId] && retried.first?.attempts == 1)
    }

    static func eventRetry(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind, deliveryEvents: true)
        try await Self.endSome(store)
        let now = Self.t0.addingTimeInterval(3_600)
        let claimed = try await store.claimDeliveryEvents(at: now, leaseUntil: now.addingTimeInterval(60), limit: 50)
        try #require(claimed.count >= 3)
        let (refused, away, waiting) = (claimed[0], claimed[1], claimed[2])
        try await store.deliveryEventFailed(webhookId: refused.record.webhookId, nextAt: nil, error: "HTTP 503")
        try await store.deliveryEventFailed(webhookId: away.record.webhookId, nextAt: nil, error: "connection refused")
        try await store.deliveryEventFailed(webhookId: waiting.record.webhookId, nextAt: now.addingTimeInterval(5), error: "HTTP 502")

        // Given up: listed oldest first with what an operator needs to decide.
        let givenUp = try await store.givenUpDeliveryEvents(limit: 10)
        #expect(givenUp == [
            GivenUpDeliveryEvent(record: refused.record, orderId: refused.orderId, attempts: 1, lastError: "HTTP 503"),
            GivenUpDeliveryEvent(record: away.record, orderId: away.orderId, attempts: 1, lastError: "connection refused"),
        ], "\(givenUp)")
        #expect(try await store.givenUpDeliveryEvents(limit: 1).count == 1)

        // Posted again: only what is still given up; pending, due at once, no failed
        // post counted, its lifetime from then, the same webhook-id and facts.
        let later = now.addingTimeInterval(5 * 86_400)
        #expect(try await store.retryDeliveryEvents(
            [refused.record.webhookId, waiting.record.webhookId, "msg_delivery_999999_sent"], at: later) == 1)
        #expect(try await store.deliveryEventCounts() == (pending: claimed.count - 1, failed: 1))
        let again = try await store.claimDeliveryEvents(at: later, leaseUntil: later.addingTimeInterval(60), limit: 50)
        let retried = try #require(again.first { $0.record.webhookId == refused.record.webhookId })
        #expect(retried.record == refused.record && retried.attempts == 0 && retried.retriedAt == later
            && retried.orderId == refused.orderId && retried.recipient == refused.recipient)
        #expect(again.first { $0.record.webhookId == waiting.record.webhookId }?.retriedAt == nil)
        #expect(!again.contains { $0.record.webhookId == away.record.webhookId }, "still given up")
        #expect(try await store.retryDeliveryEvents([refused.record.webhookId], at: later) == 0, "pending: nothing to retry")
        #expect(try await store.givenUpDeliveryEvents(limit: 10).map(\.record.webhookId) == [away.record.webhookId])
        #expect(try await store.retryDeliveryEvents([], at: later) == 0)
    }

    static func eventsOff(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        try await Self.endSome(store)
        #expect(try await store.deliveryEventCounts() == (pending: 0, failed: 0))
        #expect(try await store.claimDeliveryEvents(at: Self.t0.addingTimeInterval(3_600), leaseUntil: Self.t0.addingTimeInterval(3_660),
                                                    limit: 50).isEmpty)
    }
}
