import FlexpostCore
@testable import FlexpostStore
import Foundation
import GRDB
import Synchronization
import Testing
@testable import FlexpostTestSupport

/// The queue store contract (``StoreConformance``) on SQLite on disk.
@Suite("queue store conformance: SQLite")
struct SQLiteConformanceTests {
    @Test("every role of the queue store, on SQLite", arguments: StoreConformance.checks)
    func conformance(_ check: StoreConformance.Check) async throws {
        try await check.run(.sqlite)
    }
}

/// What only SQLite's store has to show: its file, its -wal, its own reading.
@Suite("the queue on SQLite")
struct SQLiteStoreTests {
    static let t0 = StoreConformance.t0
    static func fixture(_ name: String) throws -> [UInt8] { try StoreConformance.fixture(name) }
    static func lease(_ owner: String, _ at: Date) -> Lease { StoreConformance.lease(owner, at) }

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

    @Test("SQLite intake group commit: concurrent webhooks share transactions, each is answered for itself")
    func intakeGroupCommit() async throws {
        let dir = try TestEnvironment.temporaryDirectory("intake-batch")
        let store = try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path)
        let intake = TestStores.intake(store)
        let lines = try EventEditing.orders(40).split(separator: UInt8(ascii: "\n")).map { Array($0) }
        // Every event twice, at once: each is accepted exactly once, the other is a duplicate.
        let answers = try await withThrowingTaskGroup(of: String.self) { group in
            for line in lines + lines { group.addTask { try await intake.submit(line).line } }
            return try await group.reduce(into: [String]()) { $0.append($1) }
        }
        #expect(answers.filter { $0.hasPrefix("accepted") }.count == 40)
        #expect(answers.filter { $0.hasPrefix("duplicate") }.count == 40)
        let perOrder = try await store.deliveries(orderId: "ORD-LOAD-00000").count
        #expect(perOrder >= 1)
        #expect(try await store.countsByState().values.reduce(0, +) == 40 * perOrder)
        #expect(store.intake.transactions < 80, "80 webhooks at once took \(store.intake.transactions) transactions")

        // Within one transaction, a failing event is rolled back alone.
        let committer = store.intake
        let before = committer.transactions
        let gate = Mutex(false), writing = Mutex(false)
        async let slow = committer.submit { db in
            // Holds the writer so that the next three queue up and share one transaction.
            writing.withLock { $0 = true }
            while !gate.withLock({ $0 }) { usleep(1000) }
            return .accepted
        }
        try await waitUntil("the writer is held") { writing.withLock { $0 } }
        func history(_ orderId: String) -> IntakeCommitter.Work {
            { db in
                try SQLiteQueueStore.addHistory(
                    db, orderId: orderId, HistoryEntry(at: Self.t0, actor: "test", action: .confirmed, detail: ""))
                if orderId == "BAD" { throw TestFailure("refused after writing") }
                return .accepted
            }
        }
        async let first = committer.submit(history("OK-1"))
        let bad = Task { try await committer.submit(history("BAD")) }
        async let second = committer.submit(history("OK-2"))
        try await waitUntil("three events queue up behind it") { committer.queued == 3 }
        gate.withLock { $0 = true }
        let answers2 = try await [slow, first, second]
        #expect(answers2 == [.accepted, .accepted, .accepted])
        await #expect(throws: TestFailure.self) { try await bad.value }
        #expect(committer.transactions == before + 2, "the three queued events shared one transaction")
        let notes = try await store.pool.read { db in
            try String.fetchAll(db, sql: "SELECT order_id FROM history WHERE actor = 'test' ORDER BY order_id")
        }
        #expect(notes == ["OK-1", "OK-2"])

        // An event that waits for the writer past its caller's deadline (the
        // DeadlineStore's) is answered with StoreTimeout at the deadline; its
        // work stays queued and is written later.
        let writerGate = Mutex(false), holding = Mutex(false)
        async let held = committer.submit { db in
            holding.withLock { $0 = true }
            while !writerGate.withLock({ $0 }) { usleep(1000) }
            return .accepted
        }
        try await waitUntil("the writer is held again") { holding.withLock { $0 } }
        // The writer stays held until after the answer: it came at the deadline, not when the writer was free.
        let started = ContinuousClock.now
        await #expect(throws: StoreTimeout.self) {
            let late = history("LATE")
            try await withStoreDeadline(0.3, "an intake") { try await committer.submit(late) }
        }
        #expect(ContinuousClock.now - started >= .milliseconds(300), "not before its deadline")
        writerGate.withLock { $0 = true }
        #expect(try await held == .accepted)
        // It was queued behind the held transaction and gets one of its own.
        try await waitUntil("the abandoned event is written") {
            try await store.pool.read { db in
                try String.fetchAll(db, sql: "SELECT order_id FROM history WHERE order_id = 'LATE'")
            } == ["LATE"]
        }
    }

    @Test("SQLite claims read each state's due range in order and stop at the limit (no sort of every due delivery)")
    func sqliteClaimPlan() async throws {
        let dir = try TestEnvironment.temporaryDirectory("claim-plan")
        let store = try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path)
        let plan = try await store.pool.read { db in
            try Row.fetchAll(db, sql: "EXPLAIN QUERY PLAN " + SQLiteQueueStore.claimCandidates,
                             arguments: [nil, nil, Self.t0.timeIntervalSince1970, 50])
                .map { $0["detail"] as String }
        }
        let searches = plan.filter { $0.hasPrefix("SEARCH") }
        #expect(searches.count == 3, "\(plan)")
        #expect(searches.allSatisfy { $0.contains("INDEX deliveries_waiting (state=?") }, "\(plan)")
        #expect(!plan.contains { $0.contains("MULTI-INDEX OR") || $0.hasPrefix("SCAN deliveries") }, "\(plan)")

    }

    @Test("SQLite: the writer syncs every commit (synchronous=FULL), although GRDB sets NORMAL for WAL")
    func sqliteDurability() async throws {
        let dir = try TestEnvironment.temporaryDirectory("sync")
        let store = try SQLiteQueueStore(path: dir.appendingPathComponent("q.sqlite").path)
        #expect(try await store.writerSynchronousMode() == 2)
    }
}
