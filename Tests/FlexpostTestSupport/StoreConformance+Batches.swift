import FlexpostApp
import FlexpostCore
import FlexpostEngine
import Foundation
import Testing

// MARK: - Batched calls, claim order, fingerprints, sessions, erasure

extension StoreConformance {
    static func batchedStoreCalls(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        try await TestStores.submitAll(try EventEditing.orders(20), to: intake)
        let mine = try await store.claimDue(at: Self.t0, limit: 8, lease: Lease(owner: "a", expiresAt: Self.t0 + 60))
        let theirs = try await store.claimDue(at: Self.t0, limit: 1, lease: Lease(owner: "b", expiresAt: Self.t0 + 60))
        #expect(mine.count == 8 && theirs.count == 1)

        let sent = AttemptRecord(startedAt: Self.t0, finishedAt: Self.t0 + 1, nextState: .sent, retryAt: nil,
                                 replyCode: 250, reply: "250 ok")
        let retry = AttemptRecord(startedAt: Self.t0, finishedAt: Self.t0 + 1, nextState: .retrying,
                                  retryAt: Self.t0 + 600, replyCode: 451, reply: "451 later")
        var batch = mine.enumerated().map { CompletedAttempt(deliveryId: $0.element.id, attempt: $0.offset < 6 ? sent : retry) }
        batch.insert(CompletedAttempt(deliveryId: theirs[0].id, attempt: sent), at: 3)  // not ours: fenced off
        let held = try await store.complete(batch, owner: "a")
        #expect(held == [true, true, true, false, true, true, true, true, true])
        #expect(try await store.countsByState()[.sent] == 6)
        #expect(try await store.countsByState()[.retrying] == 2)
        #expect(try await store.countsByState()[.sending] == 1, "the other owner's claim is untouched")
        let retried = try #require(try await store.deliveries(state: .retrying, limit: 10).first)
        #expect(retried.dueAt == Self.t0 + 600 && retried.lastCode == 451)

        let ids = Set(mine.map(\.orderId) + ["NOPE"])
        let orders = try await store.storedOrders(ids)
        #expect(Set(orders.keys) == Set(mine.map(\.orderId)))
        for (orderId, stored) in orders {
            #expect(stored.order?.orderId == orderId)
            #expect(try await store.storedOrder(orderId)?.sealedSecrets == stored.sealedSecrets)
        }
    }

    static func claimOrder(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        try await TestStores.submitAll(try EventEditing.orders(30, confirmedAt: "2026-11-29T10:00:00+01:00", adminNoticeOnly: true), to: intake)
        let later = Self.t0 + 86_400 * 3
        let all = try await store.deliveries(state: nil, limit: 1000)
        let byDue = all.sorted { ($0.dueAt, $0.id) < ($1.dueAt, $1.id) }.map(\.id)
        let first = try await store.claimDue(at: later, limit: 7, lease: Lease(owner: "a", expiresAt: Self.t0))
        #expect(first.map(\.id) == Array(byDue.prefix(7)))
        // Two of them fail for now and are due again at once; the other five keep a lease that has run out.
        let retry = AttemptRecord(startedAt: Self.t0, finishedAt: Self.t0, nextState: .retrying, retryAt: Self.t0,
                                  replyCode: 451, reply: "451 later")
        _ = try await store.complete(first.prefix(2).map { CompletedAttempt(deliveryId: $0.id, attempt: retry) }, owner: "a")
        // Retried (now due at t0), expired claims and the rest, all in one due order.
        let retried = Set(first.prefix(2).map(\.id))
        let dueNow = all.map { ($0.id, retried.contains($0.id) ? Self.t0 : $0.dueAt) }
            .sorted { ($0.1, $0.0) < ($1.1, $1.0) }
        let again = try await store.claimDue(at: later, limit: 9, lease: Lease(owner: "b", expiresAt: later + 600))
        let expected = Array(dueNow.prefix(9).map(\.0))
        #expect(again.map(\.id) == expected)
        let claimedBefore = Set(first.map(\.id))
        #expect(again.filter { $0.attempts == 2 }.count == expected.filter(claimedBefore.contains).count)
        #expect(again.contains { claimedBefore.contains($0.id) && !retried.contains($0.id) }, "expired claims are taken again")

    }

    static func fingerprints(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let intake = TestStores.intake(store)
        let original = Array(try Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture("order-second-site.json"))))
        #expect(try await intake.submit(original).line.hasPrefix("accepted"))
        // The same content, keys reordered and re-spaced: a duplicate.
        let object = try JSONSerialization.jsonObject(with: Data(original)) as! [String: Any]
        let reordered = Array(try JSONSerialization.data(withJSONObject: object, options: [.prettyPrinted]))
        #expect(reordered != original)
        #expect(try await intake.submit(reordered).line.hasPrefix("duplicate"))
    }

    static func sessions(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let t0 = StoreConformance.t0
        let session = SupportSession(idHash: SupportSession.hash(id: Secret("id-1")), subject: "support token",
                                     createdAt: t0, lastSeenAt: t0)
        try await store.createSession(session)
        #expect(try await store.session(idHash: session.idHash) == session)
        try await store.touchSession(idHash: session.idHash, at: t0.addingTimeInterval(600))
        try await store.touchSession(idHash: session.idHash, at: t0.addingTimeInterval(300))
        #expect(try await store.session(idHash: session.idHash)?.lastSeenAt == t0.addingTimeInterval(600), "never moved back")
        let other = SupportSession(idHash: SupportSession.hash(id: Secret("id-2")), subject: "support token",
                                   createdAt: t0.addingTimeInterval(3_000), lastSeenAt: t0.addingTimeInterval(3_000))
        try await store.createSession(other)
        let ended = SessionPolicy().ended(at: t0.addingTimeInterval(2_500))
        #expect(try await store.deleteSessions(lastSeenBefore: ended.lastSeenBefore, createdBefore: ended.createdBefore) == 1)
        let swept = try await store.session(idHash: session.idHash), kept = try await store.session(idHash: other.idHash)
        #expect(swept == nil && kept != nil)
        try await store.deleteSession(idHash: other.idHash)
        #expect(try await store.session(idHash: other.idHash) == nil)
    }

    static func erasure(kind: StoreKind) async throws {
        // With delivery events on: an event's detail can quote the address too.
        let store = try await TestStores.make(kind, deliveryEvents: true)
        let intake = TestStores.intake(store)
        #expect(try await intake.submit(StoreConformance.fixture("order-second-site.json")).line.hasPrefix("accepted"))
        let other = EventEditing.data("order-second-site.json", [("data.orderId", "ORD-2026-004799")])
        #expect(try await intake.submit(Array(other)).line.hasPrefix("accepted"))
        // The first order's mail went out; the second's waits.
        let morning = RFC3339.parse("2026-12-01T07:00:00Z")!
        let claimed = try await store.claimDue(at: morning, limit: 10, lease: StoreConformance.lease("w", morning))
        for delivery in claimed where delivery.orderId == "ORD-2026-004711" {
            #expect(try await store.complete(deliveryId: delivery.id, owner: "w", attempt: AttemptRecord(
                startedAt: morning, finishedAt: morning, nextState: .sent, retryAt: nil, replyCode: 250,
                reply: "250 ok <\(delivery.recipient.email.value)>")))
        }
        try await store.releaseClaims(owner: "w")
        // The access data bounces: the DSN's diagnostic quotes the address.
        let access = try #require(claimed.first { $0.orderId == "ORD-2026-004711" && $0.kind == .accessData })
        let dsn = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent(
            "Tests/Fixtures/bounces/postfix-user-unknown.eml"), encoding: .utf8)
            .replacingOccurrences(of: "TOKEN", with: "x").replacingOccurrences(of: "<MSGID>", with: access.messageID)
        let report = BounceReport.read(Array(dsn.utf8))
        let bounced = try await store.decide(orderIds: ["ORD-2026-004711"]) { facts in
            BounceRules.apply(report, deliveryId: access.id, facts: facts["ORD-2026-004711"], at: morning)
        }
        #expect(bounced.outcome == .bounced)
        let diagnostics = { try await store.bouncedDeliveries(endedFrom: morning, to: morning, limit: 10).compactMap(\.diagnostic) }
        #expect(try await diagnostics().contains { $0.contains("erika.mueller@") }, "quoted before the erasure")
        let before = try await store.deliveries(orderId: "ORD-2026-004711")

        let request = ErasureRequest(customerNumber: "5500123456", actor: "dpo", reason: "Art. 17 request")
        let at = morning.addingTimeInterval(3_600)
        let outcome = try #require(try await store.erase(request, at: at))
        #expect(outcome == ErasureOutcome(erased: 2, alreadyErased: 0, cancelled: 2), "the other order's two deliveries")
        let after = try await store.deliveries(orderId: "ORD-2026-004711")
        #expect(after.map(\.state) == before.map(\.state) && after.map(\.sentAt) == before.map(\.sentAt)
            && after.map(\.messageID) == before.map(\.messageID), "states, times and ids stay")
        #expect(after.allSatisfy { $0.recipient == .erased })
        #expect(after.allSatisfy { !($0.lastReply ?? "").contains("@") }, "\(after.map(\.lastReply))")
        let stored = try #require(try await store.storedOrder("ORD-2026-004711"))
        #expect(stored.order == nil && stored.customerNumber == "5500123456" && stored.personalDataErasedAt == at)
        #expect(stored.sealedSecrets.isEmpty)
        #expect(try await store.deliveries(orderId: "ORD-2026-004799").allSatisfy { $0.state == .cancelled })
        let history = try await store.history(orderId: "ORD-2026-004711")
        #expect(history.last == HistoryEntry(at: at, actor: "dpo", action: .personalDataErased,
                                             detail: "personal data erased on request: Art. 17 request"))
        #expect(history.allSatisfy { !$0.detail.contains("@") }, "\(history.map(\.detail))")
        #expect(try await store.attempts(orderId: "ORD-2026-004711").allSatisfy { !$0.reply.contains("@") })
        let erasedDiagnostics = try await diagnostics()
        #expect(!erasedDiagnostics.isEmpty && erasedDiagnostics.allSatisfy { !$0.contains("@") }, "\(erasedDiagnostics)")
        let events = try await store.claimDeliveryEvents(at: at, leaseUntil: at.addingTimeInterval(60), limit: 50)
            .filter { $0.orderId == "ORD-2026-004711" }
        #expect(events.count == 3, "sent twice, bounced once: the order system still hears of each end")
        #expect(events.allSatisfy { !($0.record.detail ?? "").contains("@") && $0.recipient.isEmpty },
                "\(events.map { ($0.record.detail, $0.recipient) })")
        // A replayed event is still a duplicate; asking twice changes nothing; an unknown customer is refused.
        #expect(try await intake.submit(StoreConformance.fixture("order-second-site.json")).line.hasPrefix("duplicate"))
        #expect(try await store.erase(request, at: at) == ErasureOutcome(erased: 0, alreadyErased: 2, cancelled: 0))
        #expect(try await store.erase(ErasureRequest(customerNumber: "0000000000", actor: "dpo", reason: "r"), at: at) == nil)
        let resend = try await store.resend(ResendRequest(orderId: "ORD-2026-004711", kind: .adminNotice, actor: "a", reason: "r"),
                                            at: at, limitPerDay: 5, messageID: { "<m@x.example>" })
        #expect(resend == .refused(.personalDataErased(at)))

        // Retention: an order whose mail all ended a year ago, and not one that ended later.
        #expect(try await intake.submit(StoreConformance.fixture("order-services-only.json")).line.hasPrefix("accepted"))
        let retention = PersonalDataRetention(days: 365)
        let received = RFC3339.parse("2026-11-30T18:00:00Z")!
        #expect(try await store.erasePersonalData(retention, at: received.addingTimeInterval(364 * 86_400)) == 0)
        #expect(try await store.erasePersonalData(retention, at: received.addingTimeInterval(366 * 86_400)) == 1)
        let services = try #require(try await store.storedOrder("ORD-2026-004713"))
        #expect(services.order == nil && services.personalDataErasedAt != nil)
    }
}
