import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §6 bounces from a mailbox: `serve` polls a real Dovecot over IMAPS
/// (Tests/Support/imap_test_server.sh) through libcurl.
@Suite("bounce mailbox (IMAP)")
struct BounceMailboxTests {
    static let user = "bounces", password = "imap-test-password-4711"

    /// A Dovecot test server in its own directory (readable by its mail user), stopped by `stop`.
    struct Dovecot {
        let dir: String
        let port: Int
        static let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/imap_test_server.sh").path

        func run(_ arguments: [String]) async throws -> ProcessResult {
            let result = try await ChildProcess(executable: "/bin/bash", arguments: [Self.script] + arguments,
                                                environment: ProcessInfo.processInfo.environment,
                                                directory: FileManager.default.temporaryDirectory).wait()
            guard result.status == 0 else { throw TestFailure("imap_test_server.sh \(arguments[0]): \(result.stderr)") }
            return result
        }
        func start() async throws { _ = try await run(["start", dir, String(port), user, password]) }
        func resume() async throws { _ = try await run(["resume", dir, String(port)]) }
        func stop() async throws { _ = try await run(["stop", dir]) }
        func append(_ files: [URL]) async throws { _ = try await run(["append", dir, String(port), user, password] + files.map(\.path)) }
        func count() async throws -> Int {
            Int(try await run(["count", dir, String(port), user, password]).stdout.trimmingCharacters(in: .whitespacesAndNewlines)) ?? -1
        }
    }

    @Test("serve polls the mailbox: a DSN makes the delivery bounced and is deleted after; one the MTA pipe took already is recorded once; an auto-reply is deleted and changes nothing; with Dovecot down the polls fail, logged and counted, and work again when it is back; a report too large to fetch whole is read from its first part")
    func polled() async throws {
        let dir = try TestEnvironment.temporaryDirectory("bounce-mailbox")
        let dovecot = Dovecot(dir: "/tmp/flexpost-imap-\(UUID().uuidString.prefix(8))", port: TestEnvironment.freePort())
        try await dovecot.start()
        // Dovecot runs as a daemon: stopped whatever happens below.
        do {
            try await Self.story(dovecot: dovecot, dir: dir)
        } catch {
            try? await dovecot.stop()
            throw error
        }
    }

    static func story(dovecot: Dovecot, dir: URL) async throws {
        let smtp = try await SMTPTestServer()
        var env = TestEnvironment.baseEnvironment(smtpPort: smtp.port)
        env["FLEXPOST_BOUNCE_ADDRESS"] = "bounces@companyflex.example"
        env["FLEXPOST_BOUNCE_MAILBOX"] = "imaps://127.0.0.1:\(dovecot.port)/INBOX"
        env["FLEXPOST_BOUNCE_USER"] = Self.user
        env["FLEXPOST_BOUNCE_PASSWORD"] = Self.password
        env["FLEXPOST_BOUNCE_CA_FILE"] = dovecot.dir + "/cert.pem"
        env["FLEXPOST_BOUNCE_POLL"] = "1s"
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        #expect(try await flexpost(["drain"], environment: env, directory: dir).stdout == "drain: 2 sent, 0 retrying, 0 dead\n")
        let sent = try await smtp.waitForMessages(2)
        let access = try #require(sent.first { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] })
        let notice = try #require(sent.first { $0.rcptTos == ["bsp-admin@mueller-logistik.example"] })
        let verp = try #require(access.mailFrom.firstMatch(of: /^bounces\+(\d+)-([a-z2-7]{16})@/))

        // The Postfix DSN: the MTA's pipe took it already (a crash before the delete looks the same), and it is in the mailbox.
        let dsn = dir.appendingPathComponent("dsn.eml"), autoreply = dir.appendingPathComponent("autoreply.eml")
        try BounceTests.sample("postfix-user-unknown.eml", token: "\(verp.1)-\(verp.2)", messageId: "<x@elsewhere.example>").write(to: dsn)
        try BounceTests.sample("autoreply.eml", token: "\(verp.1)-\(verp.2)", messageId: access.messageId).write(to: autoreply)
        #expect(try await flexpost(["bounce", dsn.path], environment: env, directory: dir).stdout.hasPrefix("bounced"))
        try await dovecot.append([dsn, autoreply])
        #expect(try await dovecot.count() == 2)

        let serve = try await ServeProcess(environment: env, directory: dir)
        try await waitUntil("the mailbox emptied", seconds: 30) { try await dovecot.count() == 0 }
        let status = try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir).stdout
        #expect(status.contains("\taccess-data\tbounced\t") && status.components(separatedBy: "\tbounced\tdelivery").count == 2,
                "bounced, recorded once: \(status)")

        // Dovecot down: the poll fails, logged and counted; back: it goes on.
        try await dovecot.stop()
        do {
            try await waitUntil("a failed poll logged", seconds: 60) { serve.child.result().stderr.contains("bounce mailbox poll failed") }
        } catch {
            Issue.record("serve's log: \(serve.child.result().stderr.suffix(3000))")
            throw error
        }
        #expect(try await HTTPClient.send("GET", serve.base + "/metrics").body.contains(#"flexpost_bounce_polls_total{result="failed"}"#))
        try await dovecot.resume()
        // A report larger than a poll fetches (11 MiB, its last part cut off by
        // the 1 MiB fetch, closing boundary and all) is read from its first part;
        // the auto-reply after it is not held up.
        let delayed = dir.appendingPathComponent("delayed.eml"), after = dir.appendingPathComponent("after.eml")
        let padding = String(repeating: String(repeating: "x", count: 76) + "\n", count: 150_000)
        let report = String(decoding: try BounceTests.sample("gmail-delayed.eml", token: "x", messageId: notice.messageId),
                            as: UTF8.self)
        try Data(report.replacingOccurrences(of: "--000000000000abcd--", with: padding + "--000000000000abcd--").utf8)
            .write(to: delayed)
        #expect(try Data(contentsOf: delayed).count > 11_000_000)
        try BounceTests.sample("autoreply.eml", token: "x", messageId: "<after@elsewhere.example>").write(to: after)
        try await dovecot.append([delayed, after])
        try await waitUntil("the large delay report and the message after it taken", seconds: 60) { try await dovecot.count() == 0 }
        let stopped = await serve.terminate()
        try await dovecot.stop()
        smtp.stop()
        #expect(stopped.stderr.contains("bounce mailbox reachable again"), "\(stopped.stderr.suffix(2000))")
        #expect(!stopped.stderr.contains(Self.password), "the password is never logged")
        let afterwards = try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir).stdout
        #expect(afterwards.contains("\tadmin-notice\tsent\t") && afterwards.contains("delayed"),
                "a delay is a note, the notice stays sent: \(afterwards)")
    }
}
