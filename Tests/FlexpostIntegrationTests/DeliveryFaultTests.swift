import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §5 under injected faults: the states over successive drains with
/// `--now` advanced, and exactly how many messages arrived.
@Suite("delivery under SMTP faults")
struct DeliveryFaultTests {
    static let due = "2026-12-01T07:00:00Z"

    /// The new-customer order with its contact at `recipient`; returns what each drain printed.
    static func scenario(recipient: String, drains: [String], env extra: [String: String] = [:],
                         server: SMTPTestServer? = nil, port: Int? = nil) async throws -> (results: [ProcessResult], states: [String], arrived: Int) {
        let dir = try TestEnvironment.temporaryDirectory("fault")
        var env = TestEnvironment.baseEnvironment(smtpPort: server?.port ?? port)
        env.merge(extra) { $1 }
        // The new customer's order: exactly one delivery, the access-data mail.
        let event = EventEditing.data("order-new-customer.json", [("data.customer.contact.email", recipient)])
        let intake = try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: event)
        #expect(intake.status == 0, "\(intake.stdout)\(intake.stderr)")
        var results: [ProcessResult] = []
        var states: [String] = []
        for at in drains {
            results.append(try await flexpost(["drain", "--now", at], environment: env, directory: dir))
            let status = try await flexpost(["status", "ORD-2026-004800", "--json"], environment: env, directory: dir)
            let report = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any],
                                      "status --json: \(status.stdout)\(status.stderr)")
            let first = try #require((report["deliveries"] as? [[String: Any]])?.first, "no delivery: \(status.stdout)")
            states.append(try #require(first["state"] as? String))
        }
        let arrived = try server?.messages().filter { $0.rcptTos == [recipient] }.count ?? 0
        return (results, states, arrived)
    }

    @Test("451 once at RCPT: retrying, then sent; one message", arguments: ["rcpt451once", "data451once"])
    func transientOnce(token: String) async throws {
        let server = try await SMTPTestServer()
        let run = try await Self.scenario(recipient: "\(token)@example.com", drains: [Self.due, "2026-12-01T09:00:00Z"], server: server)
        #expect(run.states == ["retrying", "sent"])
        #expect(run.results.map(\.status) == [0, 0])
        #expect(run.results[0].stdout.contains("0 sent, 1 retrying, 0 dead"))
        #expect(run.arrived == 1)
    }

    @Test("the server stores the message but the reply is lost: retried, so it arrives twice (documented at-least-once)")
    func replyLostAfterData() async throws {
        let server = try await SMTPTestServer()
        let run = try await Self.scenario(recipient: "dropdata@example.com", drains: [Self.due, "2026-12-01T09:00:00Z"], server: server)
        #expect(run.states == ["retrying", "retrying"])
        let copies = try server.messages().filter { $0.rcptTos == ["dropdata@example.com"] }
        #expect(copies.count == 2)
        // A retry keeps its Message-ID, so the recipient's client can fold the copies.
        #expect(Set(copies.map(\.messageId)).count == 1)
    }

    @Test("5xx: dead at once, exit 1, nothing arrives", arguments: ["rcpt550", "data554"])
    func permanent(token: String) async throws {
        let server = try await SMTPTestServer()
        let run = try await Self.scenario(recipient: "\(token)@example.com", drains: [Self.due, "2026-12-02T09:00:00Z"], server: server)
        #expect(run.states == ["dead", "dead"])
        #expect(run.results.map(\.status) == [1, 0])
        #expect(run.arrived == 0)
    }

    @Test("451 always: retrying until the retry lifetime, then dead")
    func lifetime() async throws {
        let server = try await SMTPTestServer()
        let run = try await Self.scenario(
            recipient: "rcpt451@example.com",
            drains: [Self.due, "2026-12-02T07:00:00Z", "2026-12-03T07:00:00Z", "2026-12-04T07:00:01Z"], server: server)
        #expect(run.states == ["retrying", "retrying", "retrying", "dead"])
        #expect(run.results.last?.status == 1)
        #expect(run.arrived == 0)
    }

    @Test("dropped connection, no listener, and a server slower than the timeout: retrying, nothing lost")
    func network() async throws {
        let server = try await SMTPTestServer(.init(slowSeconds: 40))
        let dropped = try await Self.scenario(recipient: "droprcpt@example.com", drains: [Self.due], server: server)
        #expect(dropped.states == ["retrying"])
        let nobody = try await Self.scenario(recipient: "erika@example.com", drains: [Self.due], port: TestEnvironment.freePort())
        #expect(nobody.states == ["retrying"])
        #expect(nobody.results[0].status == 0)
        let started = Date()
        let slow = try await Self.scenario(
            recipient: "slowdata@example.com", drains: [Self.due], env: ["FLEXPOST_LEASE_SECONDS": "10"], server: server)
        #expect(slow.states == ["retrying"])
        #expect(Date().timeIntervalSince(started) < 20, "the attempt is bounded by a third of the lease (3 s), not the server's 40 s")
    }
}
