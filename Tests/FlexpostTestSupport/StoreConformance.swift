import FlexpostApp
import FlexpostCore
import FlexpostEngine
import FlexpostStore
import Foundation
import Testing

/// The queue store contract, written once and run against every store
/// (the way Fluent's drivers share FluentBenchmark): each check takes the
/// kind of store to make, and a test target per store runs them all on its
/// own store (FlexpostStoreTests: SQLite on disk; FlexpostPostgresTests: a
/// real PostgreSQL server).
enum StoreConformance {
    static let t0 = RFC3339.parse("2026-12-01T07:00:00Z")!

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture(name))))
    }

    static func lease(_ owner: String, _ at: Date, seconds: Double = 60) -> Lease {
        Lease(owner: owner, expiresAt: at.addingTimeInterval(seconds))
    }

    /// One requirement of the contract, named as the test report shows it.
    struct Check: Sendable, CustomTestStringConvertible {
        let name: String
        let run: @Sendable (StoreKind) async throws -> Void
        init(_ name: String, _ run: @escaping @Sendable (StoreKind) async throws -> Void) {
            self.name = name
            self.run = run
        }
        var testDescription: String { name }
    }

    /// Every check, in the order the report lists them.
    static let checks: [Check] = [
        Check("intake: accepted, duplicate, conflict; the document, sealed secrets and deliveries are stored", intake),
        Check("R2 at intake: an OTP for a customer already known active is not stored", otpDiscarded),
        Check("portal state at intake: a pending order leaves the customer inactive and keeps its OTP; an active one marks it", portalStateAtIntake),
        Check("search index: intake leaves the terms to the indexer; a search indexes what is left first; an order erased before it was indexed is found by its ids only", searchIndex),
        Check("claims: only due ones, exclusive while leased, free again when the lease expires", claims),
        Check("dead deliveries by when they ended, earliest first, the window's ends included", deadByEnd),
        Check("retry and release: a retry moves the due time; released claims are due again", retryAndRelease),
        Check("R5: cancellation before sending; a cancellation that arrives first; after sending nothing changes", cancellation),
        Check("R5 under concurrency: a confirmation and a cancellation of the same order arriving together always end cancelled", cancellationRace),
        Check("R7 resend to the same recipients with a limit; R8 purge after the retention", resendAndPurge),
        Check("concurrent claimers never share a delivery; concurrent duplicate intake stores one", concurrency),
        Check("rekey re-encrypts every secret under the newest key; the old key can then be retired", rekey),
        Check("each end writes one event with the order's facts; a claim is leased; a failure waits, a last failure gives up; taken ones are deleted", eventOutbox),
        Check("without FLEXPOST_EVENTS_URL nothing is written", eventsOff),
        Check("events given up are listed oldest first, and posted again with the same webhook-id and a new lifetime", eventRetry),
        Check("hold: waiting deliveries it covers become held and are never claimed, arrivals too; release restores them", holdAndRelease),
        Check("a claim a pass had not started is given back held; a lapsed claim a hold covers waits for the release", claimsUnderAHold),
        Check("cancel one delivery: cancelled with actor and reason; secrets go with the last unsent access data", cancelOne),
        Check("the store keeps sessions by hash: created, read, used, deleted; ended ones swept", sessions),
        Check("a data subject's request on the store: unsent mail cancelled, states and times kept, who and why recorded, asked twice nothing more; retention erases what ended long ago", erasure),
        Check("batched completion and order reads on every store", batchedStoreCalls),
        Check("claims take the earliest due first across states, retries and expired leases included", claimOrder),
        Check("fingerprints: key order and spacing do not matter", fingerprints),
    ]
}

// MARK: - Intake, search, claims

extension StoreConformance {
    static func intake(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("order-second-site.json")).line == "accepted order.confirmed ORD-2026-004711")
        #expect(try await intake.submit(Self.fixture("order-second-site.json")).line == "duplicate order.confirmed ORD-2026-004711")
        let changed = Array(EventEditing.data("order-second-site.json", [("data.items[0].access.password", "other")]))
        #expect(try await intake.submit(changed).line == "conflict order.confirmed ORD-2026-004711")
        let stored = try #require(try await store.storedOrder("ORD-2026-004711"))
        #expect(stored.order?.siteProducts.first?.access.lineId == "001234567890")
        #expect(stored.portalActive)
        let secrets = try TestStores.sealer.open(stored.sealedSecrets, orderId: "ORD-2026-004711")
        #expect(secrets.accessPasswords["SP-300401"]?.exposedValue == "s7Qp-Lx2r-9vTm")
        let deliveries = try await store.deliveries(orderId: "ORD-2026-004711")
        #expect(deliveries.map(\.kind) == [.accessData, .adminNotice])
        #expect(deliveries.allSatisfy { $0.state == .scheduled && $0.attempts == 0 })
        #expect(try await store.history(orderId: "ORD-2026-004711").map(\.action) == [.confirmed])
        #expect(try await store.storedOrder("NOPE") == nil)
    }

    static func otpDiscarded(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("portal-account-activated.json")).line.hasPrefix("accepted"))
        #expect(try await intake.submit(Self.fixture("order-new-customer.json")).line.hasPrefix("accepted"))
        let stored = try #require(try await store.storedOrder("ORD-2026-004800"))
        #expect(stored.portalActive)
        #expect(!stored.sealedSecrets.contains { $0.purpose == SecretSealer.oneTimePasswordPurpose })
    }

    static func portalStateAtIntake(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("order-new-customer.json")).line.hasPrefix("accepted"))
        let pending = try #require(try await store.storedOrder("ORD-2026-004800"))
        #expect(!pending.portalActive, "an order with a pending account must not mark the customer active")
        #expect(pending.sealedSecrets.contains { $0.purpose == SecretSealer.oneTimePasswordPurpose })
        #expect(try await store.deliveries(orderId: "ORD-2026-004800").map(\.kind) == [.accessData])

        // A second order of the same customer that says the account is active marks it (R2 for both orders).
        let active = Array(EventEditing.data("order-second-site.json", [
            ("data.orderId", "ORD-2026-004801"), ("data.customer.customerNumber", pending.customerNumber),
            ("data.items[0].basePackageId", "GP-200001"), ("data.items[1].basePackageId", "GP-200001"),
        ]))
        #expect(try await intake.submit(active).line.hasPrefix("accepted"))
        #expect(try await store.storedOrder("ORD-2026-004800")?.portalActive == true)
        #expect(try await store.storedOrder("ORD-2026-004801")?.portalActive == true)
    }

    static func searchIndex(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("order-second-site.json")).line.hasPrefix("accepted"))
        #expect(try await intake.submit(Self.fixture("order-new-customer.json")).line.hasPrefix("accepted"))
        #expect(try await intake.submit(Self.fixture("order-services-only.json")).line.hasPrefix("accepted"))
        func found(_ query: String) async throws -> [String] {
            try await store.searchOrders(term: OrderSearch.term(query), limit: 10).map(\.orderId)
        }
        // The indexer takes the backlog in batches, then finds it empty.
        #expect(try await store.indexStoredOrders(limit: 2) == 2)
        #expect(try await found("erika.mueller@mueller-logistik.example").contains("ORD-2026-004711"))
        #expect(try await store.indexStoredOrders(limit: 2) == 0, "the search indexed the rest")
        #expect(try await found("0221 4711000") == ["ORD-2026-004711"])
        #expect(try await found("sp-400001") == ["ORD-2026-004800"])

        // Erased before the indexer came: only the order id and the customer number find it.
        let late = EventEditing.data("order-second-site.json", [
            ("data.orderId", "ORD-2026-004799"), ("data.customer.customerNumber", "5500777001"),
            ("data.customer.contact.email", "late@example.com"),
        ])
        #expect(try await intake.submit(Array(late)).line.hasPrefix("accepted"))
        let at = Self.t0.addingTimeInterval(3_600)
        _ = try #require(try await store.erase(ErasureRequest(customerNumber: "5500777001", actor: "dpo", reason: "r"), at: at))
        #expect(try await found("late@example.com").isEmpty)
        #expect(try await found("ORD-2026-004799") == ["ORD-2026-004799"])
        #expect(try await found("5500777001") == ["ORD-2026-004799"])
        #expect(try await store.indexStoredOrders(limit: 10) == 0)
    }

    static func claims(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        _ = try await TestStores.intake(store).submit(Self.fixture("order-second-site.json"))
        let atNotice = RFC3339.parse("2026-11-30T14:12:00Z")!
        #expect(try await store.dueCount(at: atNotice, limit: nil) == 1)
        let first = try await store.claimDue(at: atNotice, limit: 10, lease: Self.lease("a", atNotice))
        #expect(first.map(\.kind) == [.adminNotice])
        #expect(first.first?.state == .sending && first.first?.attempts == 1)
        #expect(try await store.claimDue(at: atNotice, limit: 10, lease: Self.lease("b", atNotice)).isEmpty)
        let later = atNotice.addingTimeInterval(61)
        let reclaimed = try await store.claimDue(at: later, limit: 10, lease: Self.lease("b", later))
        #expect(reclaimed.map(\.id) == first.map(\.id), "the expired lease is taken over")
        #expect(reclaimed.first?.attempts == 2)
        // The first owner's late result is fenced off; the new owner's counts.
        let record = AttemptRecord(startedAt: later, finishedAt: later, nextState: .sent, retryAt: nil, replyCode: 250, reply: "ok")
        #expect(try await store.complete(deliveryId: first[0].id, owner: "a", attempt: record) == false)
        #expect(try await store.renewClaims(owner: "a", until: later.addingTimeInterval(60)).isEmpty)
        #expect(try await store.renewClaims(owner: "b", until: later.addingTimeInterval(60)) == [first[0].id])
        #expect(try await store.complete(deliveryId: first[0].id, owner: "b", attempt: record))
        let sent = try await store.deliveries(orderId: "ORD-2026-004711").first { $0.kind == .adminNotice }
        #expect(sent?.state == .sent && sent?.sentAt == later && sent?.lastCode == 250)
        #expect(try await store.attempts(orderId: "ORD-2026-004711").map(\.outcome) == [.sent, .sent])
        #expect(try await store.countsByState() == [.sent: 1, .scheduled: 1])
        #expect(try await store.nextDueDate() == Self.t0)
    }

    static func deadByEnd(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        _ = try await intake.submit(Self.fixture("order-second-site.json"))
        _ = try await intake.submit(Self.fixture("order-new-customer.json"))
        let claimed = try await store.claimDue(at: Self.t0, limit: 10, lease: Self.lease("w", Self.t0))
        #expect(claimed.count == 3)
        // Each ends a minute after the last: dead, sent, dead.
        for (index, delivery) in claimed.enumerated() {
            let end = Self.t0.addingTimeInterval(Double(60 * (index + 1)))
            let dead = index != 1
            #expect(try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: end, finishedAt: end, nextState: dead ? .dead : .sent, retryAt: nil,
                replyCode: dead ? 554 : 250, reply: dead ? "554 refused" : "250 ok")))
        }
        let all = try await store.deadDeliveries(endedFrom: Self.t0, to: Self.t0.addingTimeInterval(3600), limit: 10, newestFirst: false)
        #expect(all.map(\.id) == [claimed[0].id, claimed[2].id])
        #expect(all.allSatisfy { $0.state == .dead && $0.lastReply == "554 refused" })
        let edges = try await store.deadDeliveries(endedFrom: Self.t0.addingTimeInterval(180),
                                                   to: Self.t0.addingTimeInterval(180), limit: 10, newestFirst: false)
        #expect(edges.map(\.id) == [claimed[2].id], "both ends included")
        #expect(try await store.deadDeliveries(endedFrom: Self.t0.addingTimeInterval(61),
                                               to: Self.t0.addingTimeInterval(179), limit: 10, newestFirst: false).isEmpty)
        #expect(try await store.deadDeliveries(endedFrom: Self.t0, to: Self.t0.addingTimeInterval(3600), limit: 1, newestFirst: false)
            .map(\.id) == [claimed[0].id])
        #expect(try await store.deadDeliveries(endedFrom: Self.t0, to: Self.t0.addingTimeInterval(3600), limit: 10, newestFirst: true)
            .map(\.id) == [claimed[2].id, claimed[0].id])
        #expect(try await store.deadDeliveries(endedFrom: Self.t0, to: Self.t0.addingTimeInterval(3600), limit: 1, newestFirst: true)
            .map(\.id) == [claimed[2].id])
    }
}
