import Foundation
import Testing
@testable import FlexpostTestSupport

/// Many workers on one PostgreSQL database, as on many machines.
@Suite("scale-out on PostgreSQL")
struct PostgresScaleOutTests {
    static func environment(smtpPort: Int, databaseURL: String) -> [String: String] {
        var env = TestEnvironment.baseEnvironment(smtpPort: smtpPort)
        env["FLEXPOST_DATABASE_URL"] = databaseURL
        return env
    }

    static func pastOrders(_ count: Int) throws -> Data {
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-120))
        return try EventEditing.orders(count, confirmedAt: past, adminNoticeOnly: true)
    }

    @Test("three serve processes on one database: 1,000 due deliveries arrive exactly once")
    func threeServes() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("pg-three")
        let env = Self.environment(smtpPort: server.port, databaseURL: try await TestStores.newPostgresDatabase())
        let intake = try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: try Self.pastOrders(1000))
        #expect(intake.status == 0, "\(intake.stderr.prefix(500))")
        var serves: [ServeProcess] = []
        for _ in 0..<3 { serves.append(try await ServeProcess(environment: env, directory: dir)) }
        let received = try await server.waitForMessages(1000, seconds: 90)
        try await Task.sleep(for: .milliseconds(500))  // anything extra would arrive now
        for serve in serves { #expect(await serve.terminate().status == 0) }
        let all = try server.messages()
        #expect(received.count >= 1000)
        #expect(all.count == 1000, "exactly once: \(all.count) messages")
        #expect(Set(all.map(\.rcptTos[0])).count == 1000)
    }

    @Test("the same event posted to two processes at once: one accepted, one duplicate")
    func concurrentDuplicates() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("pg-dup")
        let env = Self.environment(smtpPort: server.port, databaseURL: try await TestStores.newPostgresDatabase())
        let a = try await ServeProcess(environment: env, directory: dir)
        let b = try await ServeProcess(environment: env, directory: dir)
        for round in 0..<10 {
            let event = EventEditing.data("order-second-site.json", [("data.orderId", "ORD-DUP-\(round)")])
            async let first = a.post(event)
            async let second = b.post(event)
            let statuses = [try await first.status, try await second.status].sorted()
            #expect(statuses == [200, 202], "round \(round): \(statuses)")
        }
        _ = await a.terminate()
        _ = await b.terminate()
    }

    @Test("one of three workers killed with SIGKILL mid-run: all arrive, duplicates at most its messages in flight")
    func killOneWorker() async throws {
        let server = try await SMTPTestServer(.init(delaySeconds: 0.03))
        let dir = try TestEnvironment.temporaryDirectory("pg-kill")
        var env = Self.environment(smtpPort: server.port, databaseURL: try await TestStores.newPostgresDatabase())
        env["FLEXPOST_LEASE_SECONDS"] = "10"
        env["FLEXPOST_SMTP_CONNECTIONS"] = "3"
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: try Self.pastOrders(300)).status == 0)
        var serves: [ServeProcess] = []
        for _ in 0..<3 { serves.append(try await ServeProcess(environment: env, directory: dir)) }
        _ = try await server.waitForMessages(60, seconds: 30)
        serves[0].child.signal(SIGKILL)
        _ = await serves[0].child.wait()
        let received = try await server.waitForRecipients(300, seconds: 60)
        try await Task.sleep(for: .milliseconds(500))
        for serve in serves.dropFirst() { _ = await serve.terminate() }
        let all = try server.messages()
        #expect(Set(all.map(\.rcptTos[0])).count == 300, "every delivery arrived (\(received.count))")
        #expect(all.count - 300 <= 3, "duplicates at most its three connections in flight: \(all.count - 300)")
    }

    @Test("PostgreSQL restarted mid-run: the workers reconnect and finish; nothing lost")
    func databaseRestart() async throws {
        // A server of its own: restarting the shared one would disturb other tests.
        let postgres = try await OwnPostgresServer.start("restart")
        defer { Task { _ = try? await postgres.control("stop") } }

        let server = try await SMTPTestServer(.init(delaySeconds: 0.02))
        let dir = try TestEnvironment.temporaryDirectory("pg-restart")
        var env = Self.environment(smtpPort: server.port, databaseURL: postgres.url)
        env["FLEXPOST_LEASE_SECONDS"] = "10"
        env["FLEXPOST_SMTP_CONNECTIONS"] = "2"
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: try Self.pastOrders(200)).status == 0)
        let a = try await ServeProcess(environment: env, directory: dir)
        let b = try await ServeProcess(environment: env, directory: dir)
        _ = try await server.waitForMessages(40, seconds: 30)
        let restarted = try await postgres.control("restart")
        #expect(restarted.status == 0, "\(restarted.stderr)")
        let received = try await server.waitForRecipients(200, seconds: 90)
        _ = await a.terminate()
        _ = await b.terminate()
        _ = try await postgres.control("stop")
        #expect(Set(received.map(\.rcptTos[0])).count == 200, "all delivered after the restart")
        #expect(received.count - 200 <= 4, "duplicates at most the four in flight (2 workers × 2): \(received.count - 200)")
    }

    @Test("pg_dump of the database holds no plaintext secret")
    func dumpHasNoSecrets() async throws {
        let url = try await TestStores.newPostgresDatabase()
        let dir = try TestEnvironment.temporaryDirectory("pg-dump")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_DATABASE_URL"] = url
        let files = ["order-second-site.json", "order-new-customer.json", "order-second-base-package.json"]
        #expect(try await flexpost(["enqueue"] + files.map(TestEnvironment.fixture), environment: env, directory: dir).status == 0)
        let dump = try await ChildProcess(
            executable: "/usr/bin/pg_dump", arguments: [url.replacingOccurrences(of: "?sslmode=disable", with: "")],
            environment: ProcessInfo.processInfo.environment, directory: dir
        ).wait()
        #expect(dump.status == 0, "\(dump.stderr)")
        #expect(dump.stdout.contains("ORD-2026-004711"), "the dump holds the orders")
        for secret in ["s7Qp-Lx2r-9vTm", "Zr5m-Pq8d-Yc1v", "Hq4t-Wz8n-3kPe", "K9vR-7tXq-M2wL"] {
            #expect(!dump.stdout.contains(secret))
        }
    }
}
