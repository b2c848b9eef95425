import Foundation
import Synchronization
import Testing
@testable import FlexpostTestSupport

/// SPEC §5: many processes on one SQLite file never send a delivery twice;
/// a worker killed mid-send loses nothing (at least once after its lease).
@Suite("concurrent workers and crashes")
struct ConcurrencyAndCrashTests {
    @Test("3 drain processes started together over 300 due deliveries: each arrives exactly once")
    func threeDrains() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("three-drains")
        let env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        let intake = try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: try EventEditing.orders(300))
        #expect(intake.status == 0)
        #expect(intake.stdout.split(separator: "\n").count == 300)
        let drains = try (0..<3).map { _ in
            try ChildProcess(executable: TestEnvironment.binary, arguments: ["drain", "--now", "2026-12-01T07:00:00Z"],
                             environment: env, directory: dir)
        }
        var sent = 0
        for drain in drains {
            let result = await drain.wait()
            #expect(result.status == 0, "\(result.stderr)")
            let counts = result.stdout.split(separator: " ")
            sent += Int(counts[1]) ?? 0
        }
        let received = try await server.waitForMessages(300)
        #expect(received.count == 300)
        #expect(Set(received.map(\.rcptTos[0])).count == 300)
        #expect(Set(received.map(\.messageId)).count == 300)
        #expect(sent == 300, "the three summaries add up")
    }

    @Test("serve killed with SIGKILL mid-way and restarted: every delivery arrives, duplicates at most those in flight")
    func crashAndRestart() async throws {
        let server = try await SMTPTestServer(.init(delaySeconds: 0.02))
        let dir = try TestEnvironment.temporaryDirectory("crash")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        env["FLEXPOST_LEASE_SECONDS"] = "10"
        env["FLEXPOST_SMTP_CONNECTIONS"] = "3"
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-120))
        let intake = try await flexpost(["enqueue", "-"], environment: env, directory: dir,
                                        stdin: try EventEditing.orders(200, confirmedAt: past, adminNoticeOnly: true))
        #expect(intake.status == 0)

        let first = try await ServeProcess(environment: env, directory: dir)
        _ = try await server.waitForMessages(40, seconds: 30)
        first.child.signal(SIGKILL)
        _ = await first.child.wait()
        let atKill = try server.messages().count
        #expect(atKill < 200, "killed mid-way")

        let second = try await ServeProcess(environment: env, directory: dir)
        let received = try await server.waitForRecipients(200, seconds: 60)
        _ = await second.terminate()
        let recipients = received.map(\.rcptTos[0])
        let unique = Set(recipients)
        #expect(unique.count == 200, "every delivery arrived")
        let duplicates = recipients.count - unique.count
        // Three connections: at most three messages were in flight at the kill (each
        // lane records its result before it takes the next message).
        #expect(duplicates <= 3, "duplicates: \(duplicates)")
        print("crash test: \(atKill) delivered before SIGKILL, \(duplicates) duplicate(s) after restart")
    }

    /// What four webhook clients saw: the answer's status per order index, 0
    /// when the connection died before an answer came.
    final class Answers: Sendable {
        let byIndex = Mutex<[Int: Int]>([:])
        func record(_ index: Int, _ status: Int) { byIndex.withLock { $0[index] = status } }
        var accepted: Int { byIndex.withLock { $0.values.filter { $0 == 202 }.count } }
    }

    @Test("serve killed with SIGKILL while webhooks arrive: every event answered 202 is stored whole; one whose answer was lost is, on retry, accepted or a duplicate",
          arguments: StoreKind.allCases)
    func killedDuringIntake(kind: StoreKind) async throws {
        let dir = try TestEnvironment.temporaryDirectory("intake-crash-\(kind)")
        var env = TestEnvironment.baseEnvironment(smtpPort: TestEnvironment.freePort())
        if kind == .postgres { env["FLEXPOST_DATABASE_URL"] = try await TestStores.newPostgresDatabase() }
        // Confirmed now: the access data is due tomorrow, so nothing is sent and
        // the store holds exactly what intake wrote.
        let now = ISO8601DateFormatter().string(from: Date())
        func event(_ index: Int) -> Data {
            EventEditing.data("order-new-customer.json", [
                ("data.orderId", String(format: "ORD-KILL-%05d", index)),
                ("data.customer.customerNumber", String(format: "78%08d", index)),
                ("data.confirmedAt", now),
            ])
        }
        let serve = try await ServeProcess(environment: env, directory: dir)
        let answers = Answers()
        let clients = 4
        let limit = 4_000
        try await withThrowingTaskGroup(of: Void.self) { group in
            for client in 0..<clients {
                group.addTask {
                    for index in stride(from: client, to: limit, by: clients) {
                        do {
                            answers.record(index, try await serve.post(event(index)).status)
                        } catch {
                            answers.record(index, 0)  // killed: no answer
                            return
                        }
                    }
                }
            }
            group.addTask {
                while answers.accepted < 200 { try await Task.sleep(for: .milliseconds(5)) }
                serve.child.signal(SIGKILL)
            }
            try await group.waitForAll()
        }
        let killed = await serve.child.wait()
        #expect(killed.status != 0, "serve was killed, not finished")
        let seen = answers.byIndex.withLock { $0 }
        let accepted = Set(seen.filter { $0.value == 202 }.keys)
        let unanswered = Set(seen.filter { $0.value == 0 }.keys)
        #expect(accepted.count >= 200)
        #expect(seen.values.allSatisfy { $0 == 202 || $0 == 0 }, "only accepted or unanswered: \(Set(seen.values))")
        #expect(accepted.count < limit, "killed mid-way")

        func stored() async throws -> [String: [[String: Any]]] {
            let list = try await flexpost(["list", "--json", "--limit", "100000"], environment: env, directory: dir)
            #expect(list.status == 0, "\(list.stderr)")
            let rows = try #require(try JSONSerialization.jsonObject(with: Data(list.stdout.utf8)) as? [[String: Any]])
            return Dictionary(grouping: rows) { $0["orderId"] as? String ?? "" }
        }
        let afterKill = try await stored()
        let id = { (index: Int) in String(format: "ORD-KILL-%05d", index) }
        // Durable before 202: every accepted order is there with its delivery.
        for index in accepted {
            let rows = afterKill[id(index)] ?? []
            #expect(rows.count == 1 && rows.first?["kind"] as? String == "access-data"
                    && rows.first?["state"] as? String == "scheduled", "\(id(index)) after the kill: \(rows)")
        }
        // Nothing half-stored or invented: what is there was posted, whole.
        let posted = Set(seen.keys.map(id))
        #expect(Set(afterKill.keys).isSubset(of: posted))
        #expect(afterKill.values.allSatisfy { $0.count == 1 })

        // The order system retries what got no answer: accepted now, or a
        // duplicate when the killed process had committed it; never a conflict.
        let again = try await ServeProcess(environment: env, directory: dir)
        for index in unanswered.sorted() {
            let status = try await again.post(event(index)).status
            #expect(status == 202 || status == 200, "retry of \(id(index)): \(status)")
            #expect((status == 200) == (afterKill[id(index)] != nil), "a duplicate exactly when it was stored")
        }
        #expect(await again.terminate().status == 0)
        let afterRetry = try await stored()
        #expect(Set(afterRetry.keys) == Set(accepted.union(unanswered).map(id)))
        #expect(afterRetry.values.allSatisfy { $0.count == 1 })
        print("intake crash test (\(kind)): \(accepted.count) accepted before SIGKILL, \(unanswered.count) unanswered, "
              + "\(unanswered.filter { afterKill[id($0)] != nil }.count) of them stored")
    }
}
