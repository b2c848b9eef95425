import FlexpostApp
import FlexpostCore
import FlexpostEngine
import FlexpostStore
import Foundation
import GRDB
import Testing
@testable import FlexpostTestSupport

/// The queue store contract, one suite run against every implementation:
/// SQLite on disk and a real PostgreSQL server.
@Suite("queue store conformance")
struct StoreConformanceTests {
    static let t0 = RFC3339.parse("2026-12-01T07:00:00Z")!

    static func fixture(_ name: String) throws -> [UInt8] {
        Array(try Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture(name))))
    }

    static func lease(_ owner: String, _ at: Date, seconds: Double = 60) -> Lease {
        Lease(owner: owner, expiresAt: at.addingTimeInterval(seconds))
    }

    @Test("intake: accepted, duplicate, conflict; the document, sealed secrets and deliveries are stored", arguments: StoreKind.allCases)
    func intake(kind: StoreKind) async throws {
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

    @Test("R2 at intake: an OTP for a customer already known active is not stored", arguments: StoreKind.allCases)
    func otpDiscarded(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("portal-account-activated.json")).line.hasPrefix("accepted"))
        #expect(try await intake.submit(Self.fixture("order-new-customer.json")).line.hasPrefix("accepted"))
        let stored = try #require(try await store.storedOrder("ORD-2026-004800"))
        #expect(stored.portalActive)
        #expect(!stored.sealedSecrets.contains { $0.purpose == SecretSealer.oneTimePasswordPurpose })
    }

    @Test("portal state at intake: a pending order leaves the customer inactive and keeps its OTP; an active one marks it",
          arguments: StoreKind.allCases)
    func portalStateAtIntake(kind: StoreKind) async throws {
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

    @Test("search index: intake leaves the terms to the indexer; a search indexes what is left first; an order erased before it was indexed is found by its ids only",
          arguments: StoreKind.allCases)
    func searchIndex(kind: StoreKind) async throws {
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

    @Test("search index, SQLite: a damaged order document does not stop the index or any search; its ids still find it")
    func searchIndexDamagedDocument() async throws {
        let path = try TestEnvironment.temporaryDirectory("store").appendingPathComponent("queue.sqlite").path
        let store = try SQLiteQueueStore(path: path)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("order-second-site.json")).line.hasPrefix("accepted"))
        #expect(try await intake.submit(Self.fixture("order-new-customer.json")).line.hasPrefix("accepted"))
        let queue = try DatabaseQueue(path: path)
        try await queue.write { db in
            try db.execute(sql: "UPDATE orders SET document = x'01ffff' WHERE order_id = 'ORD-2026-004711'")
        }
        try queue.close()
        #expect(try await store.indexStoredOrders(limit: 10) == 2)
        #expect(try await store.searchOrders(term: OrderSearch.term("ORD-2026-004711"), limit: 10).map(\.orderId)
            == ["ORD-2026-004711"])
        #expect(try await store.searchOrders(term: OrderSearch.term("sp-400001"), limit: 10).map(\.orderId)
            == ["ORD-2026-004800"], "the other order of the batch is indexed in full")
    }

    @Test("claims: only due ones, exclusive while leased, free again when the lease expires", arguments: StoreKind.allCases)
    func claims(kind: StoreKind) async throws {
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

    @Test("dead deliveries by when they ended, earliest first, the window's ends included", arguments: StoreKind.allCases)
    func deadByEnd(kind: StoreKind) async throws {
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

    @Test("retry and release: a retry moves the due time; released claims are due again", arguments: StoreKind.allCases)
    func retryAndRelease(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        _ = try await TestStores.intake(store).submit(Self.fixture("order-new-customer.json"))
        let claimed = try await store.claimDue(at: Self.t0, limit: 5, lease: Self.lease("w", Self.t0))
        #expect(claimed.count == 1)
        let retryAt = Self.t0.addingTimeInterval(120)
        let record = AttemptRecord(startedAt: Self.t0, finishedAt: Self.t0, nextState: .retrying, retryAt: retryAt,
                                   replyCode: 451, reply: "451 later")
        #expect(try await store.complete(deliveryId: claimed[0].id, owner: "w", attempt: record))
        #expect(try await store.claimDue(at: Self.t0.addingTimeInterval(60), limit: 5, lease: Self.lease("w", Self.t0)).isEmpty)
        #expect(try await store.oldestWaitingDue(at: retryAt) == retryAt)
        let again = try await store.claimDue(at: retryAt, limit: 5, lease: Self.lease("w", retryAt))
        #expect(again.first?.attempts == 2 && again.first?.firstDueAt == Self.t0)
        // A first claim given back is scheduled again, as if never claimed.
        _ = try await TestStores.intake(store).submit(Self.fixture("order-second-base-package.json"))
        let first = try await store.claimDue(at: retryAt, limit: 5, lease: Self.lease("w", retryAt))
        #expect(!first.isEmpty && first.allSatisfy { $0.attempts == 1 && $0.orderId == "ORD-2026-004712" })
        try await store.releaseClaims(owner: "w")
        let released = try await store.deliveries(orderId: "ORD-2026-004800")
        #expect(released.first?.state == .retrying && released.first?.attempts == 1)
        let fresh = try await store.deliveries(orderId: "ORD-2026-004712")
        #expect(fresh.count == first.count && fresh.allSatisfy { $0.state == .scheduled && $0.attempts == 0 },
                "\(fresh.map(\.state))")
    }

    @Test("R5: cancellation before sending; a cancellation that arrives first; after sending nothing changes", arguments: StoreKind.allCases)
    func cancellation(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(Self.fixture("order-cancelled.json")).line.hasPrefix("accepted"))
        _ = try await intake.submit(Self.fixture("order-second-base-package.json"))
        let cancelledFirst = try #require(try await store.storedOrder("ORD-2026-004712"))
        #expect(cancelledFirst.cancelled && cancelledFirst.sealedSecrets.isEmpty)
        #expect(try await store.deliveries(orderId: "ORD-2026-004712").allSatisfy { $0.state == .cancelled })

        _ = try await intake.submit(Self.fixture("order-second-site.json"))
        let claimed = try await store.claimDue(at: Self.t0, limit: 10, lease: Self.lease("w", Self.t0))
        for delivery in claimed where delivery.kind == .adminNotice {
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: Self.t0, finishedAt: Self.t0, nextState: .sent, retryAt: nil, replyCode: 250, reply: "ok"))
        }
        let cancel = Array(EventEditing.data("order-cancelled.json", [("data.orderId", "ORD-2026-004711")]))
        #expect(try await intake.submit(cancel).line.hasPrefix("accepted"))
        let states = try await store.deliveries(orderId: "ORD-2026-004711").map { "\($0.kind.rawValue) \($0.state.rawValue)" }
        #expect(states == ["access-data cancelled", "admin-notice sent"])

        // Everything already sent: the cancellation is recorded and changes nothing (secrets stay for a resend).
        _ = try await intake.submit(Self.fixture("order-new-customer.json"))
        for delivery in try await store.claimDue(at: Self.t0, limit: 10, lease: Self.lease("w", Self.t0)) {
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: Self.t0, finishedAt: Self.t0, nextState: .sent, retryAt: nil, replyCode: 250, reply: "ok"))
        }
        let late = Array(EventEditing.data("order-cancelled.json", [("data.orderId", "ORD-2026-004800")]))
        #expect(try await intake.submit(late).line.hasPrefix("accepted"))
        let after = try #require(try await store.storedOrder("ORD-2026-004800"))
        #expect(!after.cancelled && !after.secretsPurged && !after.sealedSecrets.isEmpty)
        #expect(try await store.deliveries(orderId: "ORD-2026-004800").map(\.state) == [.sent])
        #expect(try await store.history(orderId: "ORD-2026-004800").map(\.action) == [.confirmed, .cancellationRecorded])
    }

    @Test("R5 under concurrency: a confirmation and a cancellation of the same order arriving together always end cancelled",
          arguments: StoreKind.allCases)
    func cancellationRace(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        let count = 150
        // Every third customer is already active: its pending order cannot take
        // PostgreSQL's one-statement path and races the cancellation in a transaction.
        for index in stride(from: 0, to: count, by: 3) {
            let activation = Array(EventEditing.data("portal-account-activated.json", [
                ("data.customerNumber", String(format: "66%08d", index)),
            ]))
            #expect(try await intake.submit(activation).line.hasPrefix("accepted"))
        }
        try await withThrowingTaskGroup(of: Void.self) { group in
            for index in 0..<count {
                let id = String(format: "ORD-RACE-%04d", index)
                let confirm = Array(EventEditing.data("order-new-customer.json", [
                    ("data.orderId", id), ("data.customer.customerNumber", String(format: "66%08d", index)),
                ]))
                let cancel = Array(EventEditing.data("order-cancelled.json", [("data.orderId", id)]))
                // Alternate which one is submitted first; both are in flight together.
                let pair = index % 2 == 0 ? [confirm, cancel] : [cancel, confirm]
                for event in pair {
                    group.addTask {
                        let line = try await intake.submit(event).line
                        #expect(line.hasPrefix("accepted"), "\(line)")
                    }
                }
            }
            try await group.waitForAll()
        }
        var survivors: [String] = []
        for index in 0..<count {
            let id = String(format: "ORD-RACE-%04d", index)
            let stored = try #require(try await store.storedOrder(id))
            let states = try await store.deliveries(orderId: id).map(\.state)
            if !stored.cancelled || !stored.sealedSecrets.isEmpty || states.contains(where: { $0 != .cancelled }) {
                survivors.append(id)
            }
        }
        #expect(survivors.isEmpty, "orders left uncancelled: \(survivors)")
    }

    @Test("R7 resend to the same recipients with a limit; R8 purge after the retention", arguments: StoreKind.allCases)
    func resendAndPurge(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        _ = try await TestStores.intake(store).submit(Self.fixture("order-second-base-package.json"))
        let request = ResendRequest(orderId: "ORD-2026-004712", kind: .adminNotice, actor: "agent", reason: "lost")
        guard case .scheduled(let resent) = try await store.resend(request, at: Self.t0, limitPerDay: 2, messageID: { "<\(UUID())@x.example>" }) else {
            Issue.record("not scheduled")
            return
        }
        #expect(resent.map(\.recipient.email.value) == ["bsp-admin@mueller-logistik.example", "it@mueller-logistik.example"])
        _ = try await store.resend(request, at: Self.t0, limitPerDay: 2, messageID: { "<\(UUID())@x.example>" })
        #expect(try await store.resend(request, at: Self.t0, limitPerDay: 2, messageID: { "<\(UUID())@x.example>" }) == .refused(.limitReached(2)))
        #expect(try await store.resend(ResendRequest(orderId: "NOPE", kind: .adminNotice, actor: "a", reason: "r"),
                                       at: Self.t0, limitPerDay: 2, messageID: { "<n@x.example>" }) == .refused(.unknownOrder))

        // Send the access data, then purge 31 days later.
        let claimed = try await store.claimDue(at: Self.t0, limit: 20, lease: Self.lease("w", Self.t0))
        for delivery in claimed {
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: Self.t0, finishedAt: Self.t0, nextState: .sent, retryAt: nil, replyCode: 250, reply: "ok"))
        }
        let retention = SecretRetention(days: 30)
        #expect(try await store.purgeSecrets(retention, at: Self.t0.addingTimeInterval(30 * 86_400)) == 0)
        let later = Self.t0.addingTimeInterval(31 * 86_400)
        #expect(try await store.purgeSecrets(retention, at: later) == 1)
        #expect(try await store.purgeSecrets(retention, at: later) == 0, "purged once")
        let purged = try #require(try await store.storedOrder("ORD-2026-004712"))
        #expect(purged.secretsPurged && purged.sealedSecrets.isEmpty)
        let access = ResendRequest(orderId: "ORD-2026-004712", kind: .accessData, actor: "a", reason: "r")
        #expect(try await store.resend(access, at: later, limitPerDay: 5, messageID: { "<m@x.example>" }) == .refused(.secretsGone))
    }

    @Test("concurrent claimers never share a delivery; concurrent duplicate intake stores one", arguments: StoreKind.allCases)
    func concurrency(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        try await TestStores.submitAll(try EventEditing.orders(120), to: intake)
        let claims = try await withThrowingTaskGroup(of: [Int64].self) { group in
            for worker in 0..<4 {
                group.addTask {
                    var mine: [Int64] = []
                    while true {
                        let batch = try await store.claimDue(at: Self.t0, limit: 7, lease: Self.lease("w\(worker)", Self.t0))
                        if batch.isEmpty { return mine }
                        mine += batch.map(\.id)
                    }
                }
            }
            return try await group.reduce(into: [Int64]()) { $0 += $1 }
        }
        #expect(claims.count == 120)
        #expect(Set(claims).count == 120)

        let event = Array(EventEditing.data("order-second-site.json", [("data.orderId", "ORD-RACE")]))
        let results = try await withThrowingTaskGroup(of: String.self) { group in
            for _ in 0..<6 { group.addTask { try await intake.submit(event).line } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(results.filter { $0.hasPrefix("accepted") }.count == 1)
        #expect(results.filter { $0.hasPrefix("duplicate") }.count == 5)
        #expect(try await store.deliveries(orderId: "ORD-RACE").count == 2)
    }

    @Test("a state or history action the code does not know, read back, is an error naming it, never a default")
    func unknownValuesRefused() async throws {
        let path = try TestEnvironment.temporaryDirectory("unknown-state").appendingPathComponent("queue.sqlite").path
        let store = try SQLiteQueueStore(path: path)
        _ = try await TestStores.intake(store).submit(Self.fixture("order-second-site.json"))
        let other = try DatabaseQueue(path: path)
        try await other.write { db in
            try db.execute(sql: "UPDATE deliveries SET state = 'frozen' WHERE kind = 'admin-notice'")
            try db.execute(sql: "UPDATE history SET action = 'teleported'")
        }
        await #expect(throws: UnknownStoredValue(column: "deliveries.state", value: "frozen")) {
            try await store.deliveries(orderId: "ORD-2026-004711")
        }
        await #expect(throws: UnknownStoredValue(column: "history.action", value: "teleported")) {
            try await store.history(orderId: "ORD-2026-004711")
        }
        await #expect(throws: UnknownStoredValue.self) { try await store.countsByState() }
    }

    @Test("SQLite: secrets destroyed by a cancellation or a purge are gone from the database file and its -wal")
    func destroyedSecretsLeaveTheFiles() async throws {
        let path = try TestEnvironment.temporaryDirectory("wal-secrets").appendingPathComponent("queue.sqlite").path
        let store = try SQLiteQueueStore(path: path)
        let intake = TestStores.intake(store)
        _ = try await intake.submit(Self.fixture("order-new-customer.json"))
        _ = try await intake.submit(Self.fixture("order-second-site.json"))
        func ciphertexts(_ orderId: String) async throws -> [Data] {
            try #require(try await store.storedOrder(orderId)).sealedSecrets.map { Data($0.ciphertext) }
        }
        let cancelled = try await ciphertexts("ORD-2026-004800"), purged = try await ciphertexts("ORD-2026-004711")
        #expect(!cancelled.isEmpty && !purged.isEmpty)
        func onDisk(_ secrets: [Data]) -> Int {
            let files = [path, path + "-wal"].compactMap { FileManager.default.contents(atPath: $0) }
            return secrets.filter { secret in files.contains { $0.range(of: secret) != nil } }.count
        }
        #expect(onDisk(cancelled) == cancelled.count, "written before (the check can see them)")

        let cancel = Array(EventEditing.data("order-cancelled.json", [("data.orderId", "ORD-2026-004800")]))
        #expect(try await intake.submit(cancel).line.hasPrefix("accepted"))
        #expect(onDisk(cancelled) == 0, "a cancellation's secrets stay in the -wal until a checkpoint")

        for delivery in try await store.claimDue(at: Self.t0.addingTimeInterval(86_400), limit: 10, lease: Self.lease("w", Self.t0)) {
            _ = try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: Self.t0, finishedAt: Self.t0, nextState: .sent, retryAt: nil, replyCode: 250, reply: "ok"))
        }
        #expect(onDisk(purged) == purged.count)
        #expect(try await store.purgeSecrets(SecretRetention(days: 30), at: Self.t0.addingTimeInterval(31 * 86_400)) == 1)
        #expect(onDisk(purged) == 0, "a purge's secrets too")
    }
}

/// Key rotation on every store: new secrets under the newest key, old ones
/// readable, `rekey` moves everything to the newest key.
@Suite("key rotation")
struct KeyRotationTests {
    static let oldKey = "old:" + Data(repeating: 1, count: 32).base64EncodedString()
    static let newKey = "new:" + Data(repeating: 2, count: 32).base64EncodedString()

    @Test("rekey re-encrypts every secret under the newest key; the old key can then be retired", arguments: StoreKind.allCases)
    func rekey(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let old = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret(Self.oldKey)), fingerprintKey: TestStores.fingerprintKey)
        let intake = Intake(store: store, sealer: old, planner: TestStores.planner, clock: FixedClock(StoreConformanceTests.t0))
        _ = try await intake.submit(StoreConformanceTests.fixture("order-new-customer.json"))
        _ = try await intake.submit(StoreConformanceTests.fixture("order-second-site.json"))
        let both = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret(Self.newKey + "," + Self.oldKey)))
        let result = try await store.rekey(newestKeyId: "new") { orderId, sealed in try? both.reseal(sealed, orderId: orderId) }
        #expect(result.rekeyed == 3 && result.failed == 0)  // OTP + two access passwords
        #expect(try await store.rekey(newestKeyId: "new") { orderId, sealed in try? both.reseal(sealed, orderId: orderId) }.rekeyed == 0)
        let onlyNew = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret(Self.newKey)))
        let stored = try #require(try await store.storedOrder("ORD-2026-004800"))
        #expect(stored.sealedSecrets.allSatisfy { $0.keyId == "new" })
        let secrets = try onlyNew.open(stored.sealedSecrets, orderId: "ORD-2026-004800")
        #expect(secrets.oneTimePassword?.exposedValue == "K9vR-7tXq-M2wL")
        #expect(secrets.accessPasswords["SP-400001"]?.exposedValue == "Zr5m-Pq8d-Yc1v")
    }
}
