import FlexpostCore
import FlexpostSMTP
import Foundation
import Testing
@testable import FlexpostTestSupport

/// libcurl against a real SMTP server on loopback: success, every failure
/// class, TLS policy, dot lines and connection reuse (SPEC §5).
@Suite("SMTP transport through libcurl")
struct SMTPTransportTests {
    static func secureTransport(_ server: SMTPTestServer, password: String = "s3cret-pw",
                                security: SMTPConfiguration.Security = .requireSTARTTLS) -> SMTPTransport {
        SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(server.port)", security: security, username: "flexpost",
            password: Secret(password), caFile: server.caFile, connectTimeout: 5, transactionTimeout: 3))
    }

    @Test("STARTTLS and AUTH: the message arrives over TLS, authenticated")
    func success() async throws {
        let server = try await SMTPTestServer(.init(tls: true, requireTLS: true, auth: "flexpost:s3cret-pw"))
        let transport = Self.secureTransport(server)
        let (bytes, envelope) = TestMail.message(to: "erika@example.com")
        let outcome = await transport.send(bytes, envelope: envelope)
        guard case .accepted(let code, let reply) = outcome else { Issue.record("\(outcome)"); return }
        #expect(code == 250)
        #expect(reply.contains("queued as"))
        let received = try server.messages()
        #expect(received.count == 1)
        #expect(received.first?.tls == true)
        #expect(received.first?.authenticated == true)
        #expect(received.first?.rcptTos == ["erika@example.com"])
        #expect(received.first?.raw == Data(bytes))
    }

    @Test("a wrong password is a transient failure (relay configuration, not the message)")
    func wrongPassword() async throws {
        let server = try await SMTPTestServer(.init(tls: true, requireTLS: true, auth: "flexpost:s3cret-pw"))
        let outcome = await Self.secureTransport(server, password: "wrong").send(
            TestMail.message(to: "erika@example.com").0, envelope: TestMail.message(to: "erika@example.com").1)
        guard case .transientFailure(let code, let reply) = outcome else { Issue.record("\(outcome)"); return }
        #expect(code == 535)
        #expect(!reply.contains("wrong"))
        #expect(try server.messages().isEmpty)
    }

    @Test("failures are classified: 4xx transient, 5xx permanent, network transient", arguments: [
        ("rcpt451@example.com", "transient", 451),
        ("rcpt550@example.com", "permanent", 550),
        ("data554@example.com", "permanent", 554),
        ("data451once@example.com", "transient", 451),
        ("droprcpt@example.com", "transient", 0),
    ])
    func failures(recipient: String, expected: String, code: Int) async throws {
        let server = try await SMTPTestServer(.init(tls: true, requireTLS: true, auth: "flexpost:s3cret-pw"))
        let transport = Self.secureTransport(server)
        let (bytes, envelope) = TestMail.message(to: recipient)
        let outcome = await transport.send(bytes, envelope: envelope)
        switch (outcome, expected) {
        case (.transientFailure(let got, _), "transient"): #expect((got ?? 0) == code)
        case (.permanentFailure(let got, _), "permanent"): #expect(got == code)
        default: Issue.record("\(recipient): \(outcome)")
        }
        #expect(try server.messages().isEmpty)
        // The same transport recovers and delivers the next message.
        let next = TestMail.message(to: "after@example.com")
        guard case .accepted = await transport.send(next.0, envelope: next.1) else { Issue.record("no recovery"); return }
        #expect(try server.messages().count == 1)
    }

    @Test("connection refused is transient")
    func refused() async throws {
        let port = TestEnvironment.freePort()
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(port)", security: .opportunistic, connectTimeout: 2, transactionTimeout: 3))
        let (bytes, envelope) = TestMail.message(to: "erika@example.com")
        guard case .transientFailure(nil, _) = await transport.send(bytes, envelope: envelope) else {
            Issue.record("not transient")
            return
        }
    }

    @Test("a server slower than the timeout: transient, bounded in time")
    func slowServer() async throws {
        let server = try await SMTPTestServer(.init(slowSeconds: 30))
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(server.port)", security: .opportunistic, connectTimeout: 2, transactionTimeout: 2))
        let (bytes, envelope) = TestMail.message(to: "slowdata@example.com")
        let started = Date()
        let outcome = await transport.send(bytes, envelope: envelope)
        // Bounded by the 2 s timeout, far below the server's 30 s (generous for a loaded CI machine).
        #expect(Date().timeIntervalSince(started) < 15)
        guard case .transientFailure = outcome else { Issue.record("\(outcome)"); return }
    }

    @Test("TLS required but the server offers no STARTTLS: fails, never falls back to plain text")
    func noSTARTTLS() async throws {
        let server = try await SMTPTestServer()
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(server.port)", security: .requireSTARTTLS, username: "flexpost",
            password: Secret("s3cret-pw"), connectTimeout: 2, transactionTimeout: 3))
        let (bytes, envelope) = TestMail.message(to: "erika@example.com")
        let outcome = await transport.send(bytes, envelope: envelope)
        guard case .transientFailure(_, let reply) = outcome else { Issue.record("\(outcome)"); return }
        #expect(reply.contains("STARTTLS"))
        #expect(try server.messages().isEmpty)
    }

    @Test("a body line starting with '.' arrives intact")
    func dotLines() async throws {
        let server = try await SMTPTestServer()
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(server.port)", security: .opportunistic))
        let text = "first\n.\n..two dots\n.single\nlast\n"
        let (bytes, envelope) = TestMail.message(to: "erika@example.com", text: text)
        guard case .accepted = await transport.send(bytes, envelope: envelope) else { Issue.record("not sent"); return }
        let received = try #require(try server.messages().first)
        #expect(received.part("text/plain")?.replacingOccurrences(of: "\r\n", with: "\n") == text)
        #expect(received.raw == Data(bytes))
        // Raw lines starting with a dot, sent unencoded, also survive dot-stuffing.
        var raw = Array("Subject: dots\r\n\r\n".utf8)
        raw += Array(".\r\n..x\r\n.y\r\n".utf8)
        guard case .accepted = await transport.send(raw, envelope: envelope) else { Issue.record("raw not sent"); return }
        let second = try await server.waitForMessages(2)
        #expect(second.last?.raw == Data(raw))
    }

    @Test("1,000 messages over one reused connection")
    func reuse() async throws {
        let server = try await SMTPTestServer()
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(server.port)", security: .opportunistic))
        for index in 0..<1000 {
            let (bytes, envelope) = TestMail.message(to: "r\(index)@example.com")
            guard case .accepted = await transport.send(bytes, envelope: envelope) else {
                Issue.record("message \(index) not accepted")
                return
            }
        }
        let received = try await server.waitForMessages(1000)
        #expect(received.count == 1000)
        #expect(Set(received.map(\.rcptTos[0])).count == 1000)
        let ehlo = try String(contentsOf: server.directory.appendingPathComponent("ehlo_count"), encoding: .utf8)
        #expect(ehlo == "1", "one EHLO means one connection")
    }

    @Test("a pool of 3 connections carries 3 messages at once, and never more than 3 connections")
    func connectionPool() async throws {
        // Every DATA reply waits 0.3 s, so the 12 sends overlap: the pool opens a
        // connection only while every open one is busy, so three EHLOs mean three
        // messages were on the wire at once (no wall-clock bound needed).
        let server = try await SMTPTestServer(.init(delaySeconds: 0.3))
        let transport = SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)", security: .opportunistic),
            connections: 3)
        #expect(transport.concurrency == 3)
        let outcomes = await withTaskGroup(of: TransportOutcome.self) { group in
            for index in 0..<12 {
                let (bytes, envelope) = TestMail.message(to: "p\(index)@example.com")
                group.addTask { await transport.send(bytes, envelope: envelope) }
            }
            return await group.reduce(into: []) { $0.append($1) }
        }
        #expect(outcomes.allSatisfy { if case .accepted = $0 { true } else { false } })
        let received = try await server.waitForMessages(12)
        #expect(Set(received.map(\.rcptTos[0])).count == 12)
        let ehlo = try String(contentsOf: server.directory.appendingPathComponent("ehlo_count"), encoding: .utf8)
        #expect(ehlo == "3", "three connections at once, each reused, never a fourth")
    }

    @Test("one message at a time keeps using one warm connection of the pool")
    func poolPrefersWarmConnection() async throws {
        let server = try await SMTPTestServer()
        let transport = SMTPTransport(
            configuration: SMTPConfiguration(url: "smtp://127.0.0.1:\(server.port)", security: .opportunistic),
            connections: 4)
        for index in 0..<20 {
            let (bytes, envelope) = TestMail.message(to: "w\(index)@example.com")
            guard case .accepted = await transport.send(bytes, envelope: envelope) else {
                Issue.record("message \(index) not accepted")
                return
            }
        }
        _ = try await server.waitForMessages(20)
        let ehlo = try String(contentsOf: server.directory.appendingPathComponent("ehlo_count"), encoding: .utf8)
        #expect(ehlo == "1")
    }

    @Test("bytes that are not 7-bit CRLF never reach libcurl")
    func wireChecked() async throws {
        let server = try await SMTPTestServer()
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(server.port)", security: .opportunistic))
        let envelope = TestMail.message(to: "erika@example.com").1
        for bad in ["Subject: x\n\nbare LF", "Subject: ü\r\n\r\n", "Subject: x\r\n\r\nCR\ronly"] {
            guard case .permanentFailure(nil, _) = await transport.send(Array(bad.utf8), envelope: envelope) else {
                Issue.record("sent: \(bad)")
                continue
            }
        }
        #expect(try server.messages().isEmpty)
    }
}
