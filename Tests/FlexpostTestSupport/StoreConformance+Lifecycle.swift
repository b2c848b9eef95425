import FlexpostApp
import FlexpostCore
import FlexpostEngine
import FlexpostStore
import Foundation
import Testing

// MARK: - Retries, R5, R7, R8, concurrency, key rotation

extension StoreConformance {
    static let oldKey = "old:" + Data(repeating: 1, count: 32).base64EncodedString()
    static let newKey = "new:" + Data(repeating: 2, count: 32).base64EncodedString()

    static func retryAndRelease(kind: StoreKind) async throws {
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

    static func cancellation(kind: StoreKind) async throws {
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

    static func cancellationRace(kind: StoreKind) async throws {
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

    static func resendAndPurge(kind: StoreKind) async throws {
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

    static func concurrency(kind: StoreKind) async throws {
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

    static func rekey(kind: StoreKind) async throws {
        let store = try await TestStores.make(kind)
        let old = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret(Self.oldKey)), fingerprintKey: TestStores.fingerprintKey)
        let intake = Intake(store: store, sealer: old, planner: TestStores.planner, clock: FixedClock(StoreConformance.t0))
        _ = try await intake.submit(StoreConformance.fixture("order-new-customer.json"))
        _ = try await intake.submit(StoreConformance.fixture("order-second-site.json"))
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
