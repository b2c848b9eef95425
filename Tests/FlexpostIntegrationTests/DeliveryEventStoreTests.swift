import FlexpostCore
import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §6 delivery events in the store, on SQLite and PostgreSQL: written
/// with the state change, claimed leased, retried, given up, deleted when taken.
@Suite("delivery event outbox")
struct DeliveryEventStoreTests {
    static let t0 = StoreConformanceTests.t0

    /// Ends of every kind: a notice sent and access data dead, a retry (no end), an order cancelled (R5).
    static func endSome(_ store: any QueueStore) async throws {
        let intake = TestStores.intake(store)
        _ = try await intake.submit(StoreConformanceTests.fixture("order-second-site.json"))
        for delivery in try await store.claimDue(at: t0, limit: 10, lease: StoreConformanceTests.lease("w", t0)) {
            let sent = delivery.kind == .adminNotice
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: t0, finishedAt: t0, nextState: sent ? .sent : .dead, retryAt: nil,
                replyCode: sent ? 250 : 550, reply: sent ? "ok" : "no such user"))
        }
        // A retry is no end: no event.
        _ = try await intake.submit(StoreConformanceTests.fixture("order-new-customer.json"))
        for delivery in try await store.claimDue(at: t0, limit: 10, lease: StoreConformanceTests.lease("w", t0)) {
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: t0, finishedAt: t0, nextState: .retrying, retryAt: t0.addingTimeInterval(600), replyCode: 451, reply: "later"))
        }
        // R5 ends the rest of an order: cancelled.
        _ = try await intake.submit(StoreConformanceTests.fixture("order-second-base-package.json"))
        _ = try await intake.submit(Array(EventEditing.data("order-cancelled.json", [("data.orderId", "ORD-2026-004712")])))
    }

    @Test("each end writes one event with the order's facts; a claim is leased; a failure waits, a last failure gives up; taken ones are deleted",
          arguments: StoreKind.allCases)
    func outbox(kind: StoreKind) async throws {
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

    @Test("without FLEXPOST_EVENTS_URL nothing is written", arguments: StoreKind.allCases)
    func off(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        try await Self.endSome(store)
        #expect(try await store.deliveryEventCounts() == (pending: 0, failed: 0))
        #expect(try await store.claimDeliveryEvents(at: Self.t0.addingTimeInterval(3_600), leaseUntil: Self.t0.addingTimeInterval(3_660),
                                                    limit: 50).isEmpty)
    }
}
