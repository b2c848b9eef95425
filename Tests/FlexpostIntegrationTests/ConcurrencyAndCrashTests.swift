import Foundation
import Testing

/// SPEC §5: many processes on one SQLite file never send a delivery twice;
/// a worker killed mid-send loses nothing (at least once after its lease).
@Suite("concurrent workers and crashes")
struct ConcurrencyAndCrashTests {
    /// `count` new-customer orders (one access-data mail each) as JSON Lines.
    static func orders(_ count: Int, confirmedAt: String? = nil, adminNoticeOnly: Bool = false) throws -> Data {
        var lines = Data()
        for index in 0..<count {
            let id = String(format: "ORD-LOAD-%05d", index)
            var changes: [(String, Any?)] = [
                ("data.orderId", id), ("data.customer.customerNumber", String(format: "77%08d", index)),
                ("data.customer.contact.email", "customer\(index)@example.com"),
            ]
            if let confirmedAt { changes.append(("data.confirmedAt", confirmedAt)) }
            let name = adminNoticeOnly ? "order-second-base-package.json" : "order-new-customer.json"
            if adminNoticeOnly {
                changes.append(("data.portal.administrators", [["name": "Admin \(index)", "email": "admin\(index)@example.com"]]))
            }
            lines += EventEditing.data(name, changes) + Data("\n".utf8)
        }
        return lines
    }

    @Test("3 drain processes started together over 300 due deliveries: each arrives exactly once")
    func threeDrains() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("three-drains")
        let env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        let intake = try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: try Self.orders(300))
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
                                        stdin: try Self.orders(200, confirmedAt: past, adminNoticeOnly: true))
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
}
