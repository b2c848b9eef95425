import FlexpostCore
import FlexpostSMTP
import FlexpostApp
import Foundation
import Testing
@testable import FlexpostTestSupport

/// Start-up checks, graceful shutdown, poison deliveries and the support commands.
@Suite("operations")
struct OperationsTests {
    @Test("a missing or broken template stops start-up with exit 2 and names the file")
    func brokenTemplates() async throws {
        let dir = try TestEnvironment.temporaryDirectory("templates")
        let templates = dir.appendingPathComponent("templates")
        try FileManager.default.copyItem(atPath: TestEnvironment.templates, toPath: templates.path)
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_TEMPLATES"] = templates.path
        try FileManager.default.removeItem(at: templates.appendingPathComponent("admin-notice.en.html.mustache"))
        let missing = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(missing.status == 2)
        #expect(missing.stderr.contains("admin-notice.en.html.mustache"))
        try "{{#open}} never closed".write(to: templates.appendingPathComponent("admin-notice.en.html.mustache"),
                                           atomically: true, encoding: .utf8)
        let broken = try await flexpost(["serve"], environment: env, directory: dir)
        #expect(broken.status == 2)
        #expect(broken.stderr.contains("admin-notice.en.html.mustache"))
        let enqueue = try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")],
                                         environment: env, directory: dir)
        #expect(enqueue.status == 2, "no mail is scheduled with templates that cannot render it")
        #expect(try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir).stdout.isEmpty)

        // The commands that only read or maintain the queue need no templates: during
        // a bad deploy support can still look at the queue.
        var good = env
        good["FLEXPOST_TEMPLATES"] = TestEnvironment.templates
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")],
                                   environment: good, directory: dir).status == 0)
        for command in [["status", "ORD-2026-004711"], ["list"], ["list", "--state", "scheduled", "--json"],
                        ["purge"], ["migrate"], ["retry-events", "--dry-run"]] {
            let result = try await flexpost(command, environment: env, directory: dir)
            #expect(result.status == 0, "\(command): \(result.stderr)")
            #expect(!result.stderr.contains("template"), "\(command): \(result.stderr)")
        }
        #expect(try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir).stdout
            .contains("ORD-2026-004711"))
    }

    @Test("list says when --limit cut it short, and refuses a limit under 1")
    func listLimit() async throws {
        let dir = try TestEnvironment.temporaryDirectory("list-limit")
        let env = TestEnvironment.baseEnvironment()
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json"),
                                    TestEnvironment.fixture("order-new-customer.json")],
                                   environment: env, directory: dir).status == 0)
        let all = try await flexpost(["list"], environment: env, directory: dir)
        let total = all.stdout.split(separator: "\n").count - 1
        #expect(total >= 3, "\(all.stdout)")
        #expect(all.stdout.hasSuffix("\n\(total) deliveries\n"))
        let page = try await flexpost(["list", "--limit", "2"], environment: env, directory: dir)
        #expect(page.stdout.split(separator: "\n").count == 3)
        #expect(page.stdout.hasSuffix("\n2 of \(total) deliveries shown (the first by due time; --limit 2)\n"),
                "\(page.stdout)")
        let exact = try await flexpost(["list", "--limit", "\(total)"], environment: env, directory: dir)
        #expect(exact.stdout == all.stdout, "a page that holds everything says nothing more")
        let json = try await flexpost(["list", "--json", "--limit", "1"], environment: env, directory: dir)
        #expect(json.status == 0)
        #expect(json.stderr.contains("1 of \(total) deliveries shown"))
        let array = try JSONSerialization.jsonObject(with: Data(json.stdout.utf8)) as? [Any]
        #expect(array?.count == 1, "stdout stays one JSON document")
        let zero = try await flexpost(["list", "--limit", "0"], environment: env, directory: dir)
        #expect(zero.status == 2)
        #expect(zero.stderr.contains("--limit must be at least 1"))
    }

    @Test("poison: a delivery whose rendering fails goes dead with the reason, the queue moves on")
    func poison() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("poison")
        let templates = dir.appendingPathComponent("templates")
        try FileManager.default.copyItem(atPath: TestEnvironment.templates, toPath: templates.path)
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        env["FLEXPOST_TEMPLATES"] = templates.path
        // A deploy breaks the German subject: it renders empty.
        try "{{% CONTENT_TYPE: TEXT}}\n{{noSuchValue}}\n".write(
            to: templates.appendingPathComponent("access-data.de.subject.mustache"), atomically: true, encoding: .utf8)
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json"),
                                    TestEnvironment.fixture("order-new-customer.json")], environment: env, directory: dir).status == 0)
        let drain = try await flexpost(["drain", "--now", "2026-12-01T08:00:00+01:00"], environment: env, directory: dir)
        #expect(drain.status == 1)
        #expect(drain.stdout.contains("2 sent, 0 retrying, 1 dead"))  // notice and English mail sent
        let status = try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir)
        #expect(status.stdout.contains("not sendable: the subject template rendered empty"))
        let dead = try await flexpost(["list", "--state", "dead"], environment: env, directory: dir)
        #expect(dead.stdout.contains("ORD-2026-004711\taccess-data\tdead"))
        #expect(dead.stdout.contains("1 deliveries"))
    }

    @Test("SIGTERM: stops claiming, finishes the send in flight, gives claims back, closes the store, exits 0",
          arguments: StoreKind.allCases)
    func gracefulShutdown(_ kind: StoreKind) async throws {
        let server = try await SMTPTestServer(.init(delaySeconds: 0.05))
        let dir = try TestEnvironment.temporaryDirectory("sigterm")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        if kind == .postgres { env["FLEXPOST_DATABASE_URL"] = try await TestStores.newPostgresDatabase() }
        // Four connections at 50 ms a message: 100 take over a second, so SIGTERM
        // lands with most still waiting (with 32, all 100 had sometimes arrived).
        env["FLEXPOST_SMTP_CONNECTIONS"] = "4"
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-120))
        let orders = try EventEditing.orders(100, confirmedAt: past, adminNoticeOnly: true)
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: orders).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)
        _ = try await server.waitForMessages(10, seconds: 20)
        let stopped = await serve.terminate()
        #expect(stopped.status == 0, "\(stopped.stderr)")
        // The PostgreSQL pool ran before its first lease and stopped after the loop's last write.
        #expect(!stopped.stderr.contains("hasn't been called yet"), "\(stopped.stderr)")
        let errors = stopped.stderr.split(separator: "\n").filter { $0.split(separator: " ").dropFirst().first == "error" }
        #expect(errors.isEmpty, "\(errors)")
        let arrived = try server.messages().count
        #expect(arrived < 100)
        let sending = try await flexpost(["list", "--state", "sending"], environment: env, directory: dir)
        #expect(sending.stdout.hasSuffix("0 deliveries\n"), "claims were given back")
        let sent = try await flexpost(["list", "--state", "sent"], environment: env, directory: dir)
        #expect(sent.stdout.hasSuffix("\(arrived) deliveries\n"), "every arrived message is recorded as sent")
        // The rest goes out on the next run, none twice.
        let drain = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(drain.status == 0)
        let all = try await server.waitForMessages(100)
        #expect(Set(all.map(\.rcptTos[0])).count == 100)
        #expect(all.count == 100)
    }

    @Test("smtps:// (TLS from the first byte) with AUTH")
    func implicitTLS() async throws {
        let server = try await SMTPTestServer(.init(implicitTLS: true, auth: "flexpost:pw-implicit"))
        let transport = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtps://127.0.0.1:\(server.port)", security: .implicitTLS, username: "flexpost",
            password: Secret("pw-implicit"), caFile: server.caFile))
        let (bytes, envelope) = TestMail.message(to: "erika@example.com")
        let outcome = await transport.send(bytes, envelope: envelope)
        guard case .accepted = outcome else { Issue.record("\(outcome)"); return }
        #expect(try server.messages().first?.authenticated == true)
    }

    @Test("loopback is 127.0.0.0/8, ::1 or localhost, never a name starting with 127.: STARTTLS is required for it, as the configuration reads it")
    func loopbackDecidedByAddress() throws {
        func security(_ url: String) throws -> SMTPConfiguration.Security? {
            var env = TestEnvironment.baseEnvironment()
            env["FLEXPOST_SMTP_URL"] = url
            return try Configuration.fromEnvironment(env).smtp?.security
        }
        #expect(try security("smtp://127.relay.example:2525") == .requireSTARTTLS)
        #expect(try security("smtp://127.0.0.1.nip.example:2525") == .requireSTARTTLS)
        #expect(try security("smtp://relay.example:587") == .requireSTARTTLS)
        #expect(try security("smtp://127.0.0.1:2525") == .opportunistic)
        #expect(try security("smtp://127.8.9.10:2525") == .opportunistic)
        #expect(try security("smtp://localhost:2525") == .opportunistic)
        #expect(try security("smtp://[::1]:2525") == .opportunistic)
        #expect(try security("smtps://relay.example:465") == .implicitTLS)
        // Certificate checks may be switched off on loopback only.
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_SMTP_URL"] = "smtp://127.relay.example:2525"
        env["FLEXPOST_SMTP_TLS_VERIFY"] = "off"
        #expect(throws: ConfigurationError.self) { try Configuration.fromEnvironment(env) }
    }

    @Test("FLEXPOST_EVENTS_URL: https, or http to loopback only, no credentials in it, and never without a whsec_ secret; errors name the variable")
    func eventsSettings() throws {
        func events(_ url: String?, _ secret: String? = DeliveryEventsTests.secret) throws -> String? {
            var env = TestEnvironment.baseEnvironment()
            env["FLEXPOST_EVENTS_URL"] = url
            env["FLEXPOST_EVENTS_SECRET"] = secret
            return try Configuration.fromEnvironment(env).events?.url
        }
        #expect(try events("https://orders.companyflex.example/hooks") == "https://orders.companyflex.example/hooks")
        #expect(try events("http://127.0.0.1:9000/hooks") == "http://127.0.0.1:9000/hooks")
        #expect(try events(nil, nil) == nil)
        for (url, secret, named) in [("http://orders.companyflex.example/hooks", DeliveryEventsTests.secret, "FLEXPOST_EVENTS_URL"),
                                     ("https://user:pw@orders.example/hooks", DeliveryEventsTests.secret, "FLEXPOST_EVENTS_URL"),
                                     ("ftp://orders.example/", DeliveryEventsTests.secret, "FLEXPOST_EVENTS_URL"),
                                     ("https://orders.example/hooks", nil, "FLEXPOST_EVENTS_SECRET"),
                                     ("https://orders.example/hooks", "whsec_dG9vc2hvcnQ=", "FLEXPOST_EVENTS_SECRET")] as [(String, String?, String)] {
            #expect(throws: ConfigurationError.self, "\(url)") { try events(url, secret) }
            do { _ = try events(url, secret) } catch { #expect("\(error)".contains(named) && !"\(error)".contains("pw@"), "\(error)") }
        }
        #expect(throws: ConfigurationError.self) { try events(nil) }
    }

    @Test("FLEXPOST_BOUNCE_MAILBOX: imaps://host/MAILBOX, imap:// to loopback only, user and password required, a poll from 1s to 1h")
    func bounceMailboxSettings() throws {
        func mailbox(_ url: String?, user: String? = "bounces", password: String? = "secret-password", poll: String? = nil) throws -> String? {
            var env = TestEnvironment.baseEnvironment()
            env["FLEXPOST_BOUNCE_MAILBOX"] = url
            env["FLEXPOST_BOUNCE_USER"] = user
            env["FLEXPOST_BOUNCE_PASSWORD"] = password
            env["FLEXPOST_BOUNCE_POLL"] = poll
            return try Configuration.fromEnvironment(env).bounceMailbox?.url
        }
        #expect(try mailbox("imaps://imap.companyflex.example/INBOX") == "imaps://imap.companyflex.example/INBOX")
        #expect(try mailbox("imap://127.0.0.1:1143/INBOX") == "imap://127.0.0.1:1143/INBOX")
        #expect(try mailbox(nil, user: nil, password: nil) == nil)
        for (url, user, password, poll) in [("imap://imap.companyflex.example/INBOX", "b", "p", nil),
                                            ("imaps://imap.companyflex.example", "b", "p", nil),
                                            ("imaps://u:p@imap.companyflex.example/INBOX", "b", "p", nil),
                                            ("imaps://imap.companyflex.example/INBOX", nil, "p", nil),
                                            ("imaps://imap.companyflex.example/INBOX", "b", "p", "0s"),
                                            ("imaps://imap.companyflex.example/INBOX", "b", "p", "2h")] as [(String, String?, String?, String?)] {
            #expect(throws: ConfigurationError.self, "\(url) \(poll ?? "")") { try mailbox(url, user: user, password: password, poll: poll) }
        }
        #expect(throws: ConfigurationError.self) { try mailbox(nil) }
    }

    @Test("an unknown FLEXPOST_ variable (a typo) is warned about at start, naming it")
    func unknownSettingWarned() async throws {
        let dir = try TestEnvironment.temporaryDirectory("unknown-setting")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_SMTP_URLL"] = "smtp://relay.example:587"
        let result = try await flexpost(["list"], environment: env, directory: dir)
        #expect(result.status == 0)
        #expect(result.stderr.contains("unknown setting ignored") && result.stderr.contains("FLEXPOST_SMTP_URLL"), "\(result.stderr)")
        let clean = try await flexpost(["list"], environment: TestEnvironment.baseEnvironment(), directory: dir)
        #expect(!clean.stderr.contains("unknown setting"), "\(clean.stderr)")
    }

    @Test("configuration: STARTTLS required off loopback, smtps, bad values exit 2")
    func configuration() async throws {
        let dir = try TestEnvironment.temporaryDirectory("config")
        for (name, value) in [("FLEXPOST_SMTP_URL", "http://relay.example"), ("FLEXPOST_TIMEZONE", "Mars/Olympus"),
                              ("FLEXPOST_SEND_AT", "8 o'clock"), ("FLEXPOST_ENCRYPTION_KEY", "short"),
                              ("FLEXPOST_SMTP_URL", "smtp://user:pw@relay.example:587"), ("FLEXPOST_RETRY_LIFETIME", "soon"),
                              ("FLEXPOST_DATABASE_URL", "mysql://x"), ("FLEXPOST_SMTP_TLS_VERIFY", "maybe"),
                              ("FLEXPOST_DATABASE_URL", "postgres://user:pw@/nodb"), ("FLEXPOST_SMTP_CONNECTIONS", "0"),
                              ("FLEXPOST_SMTP_CONNECTIONS", "many"), ("FLEXPOST_RETRY_LIFETIME", "infd"),
                              ("FLEXPOST_RETRY_LIFETIME", "1e308d"), ("FLEXPOST_RETRY_LIFETIME", "400d"),
                              ("FLEXPOST_RETRY_LIFETIME", "nan"), ("FLEXPOST_RETRY_LIFETIME", "10s"),
                              ("FLEXPOST_HTTP_IDLE_TIMEOUT", "0s"), ("FLEXPOST_HTTP_IDLE_TIMEOUT", "forever")] {
            var env = TestEnvironment.baseEnvironment()
            env[name] = value
            let result = try await flexpost(["drain"], environment: env, directory: dir)
            #expect(result.status == 2, "\(name)=\(value)")
            #expect(result.stderr.contains(name), "\(result.stderr)")
            #expect(!result.stderr.contains("pw@"), "no credentials echoed")
        }
        // TLS verification switched off for a relay that is not on loopback: refused at start.
        var insecure = TestEnvironment.baseEnvironment()
        insecure["FLEXPOST_SMTP_URL"] = "smtp://relay.example:587"
        insecure["FLEXPOST_SMTP_TLS_VERIFY"] = "off"
        let refused = try await flexpost(["serve"], environment: insecure, directory: dir)
        #expect(refused.status == 2)
        #expect(refused.stderr.contains("FLEXPOST_SMTP_TLS_VERIFY=off is refused"))
        insecure["FLEXPOST_SMTP_URL"] = "smtp://127.0.0.1:2525"
        #expect(try await flexpost(["list"], environment: insecure, directory: dir).status == 0, "allowed on loopback")
        let usage = try await flexpost(["drain", "--now", "tomorrow"], environment: TestEnvironment.baseEnvironment(), directory: dir)
        #expect(usage.status == 2)
        let unknown = try await flexpost(["frobnicate"], environment: TestEnvironment.baseEnvironment(), directory: dir)
        #expect(unknown.status == 2)
    }

    @Test("preview renders headers and both parts, stores and sends nothing")
    func preview() async throws {
        let dir = try TestEnvironment.temporaryDirectory("preview")
        let result = try await flexpost(["preview", TestEnvironment.fixture("order-new-customer.json"), "--kind", "access-data"],
                                        environment: TestEnvironment.baseEnvironment(), directory: dir)
        #expect(result.status == 0, "\(result.stderr)")
        for expected in ["Subject: =?utf-8?B?", "Auto-Submitted: auto-generated", "--- text/plain ---", "--- text/html ---",
                         "Zr5m-Pq8d-Yc1v", "K9vR-7tXq-M2wL"] {
            #expect(result.stdout.contains(expected), "missing \(expected)")
        }
        #expect(!FileManager.default.fileExists(atPath: dir.appendingPathComponent("queue").path))
        let notice = try await flexpost(["preview", TestEnvironment.fixture("order-second-base-package.json"), "--kind", "admin-notice"],
                                        environment: TestEnvironment.baseEnvironment(), directory: dir)
        #expect(notice.stdout.components(separatedBy: "--- text/plain ---").count == 3, "one per administrator")
        #expect(!notice.stdout.contains("Hq4t-Wz8n-3kPe"))
    }

    @Test("drain stopped by SIGTERM (a cron timeout): no more claims, the attempts in flight are recorded, the rest is given back for the next run; exit 143 as the signal's own")
    func drainStoppedBySignal() async throws {
        let server = try await SMTPTestServer(.init(delaySeconds: 0.05))
        defer { server.stop() }
        let dir = try TestEnvironment.temporaryDirectory("drain-sigterm")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        env["FLEXPOST_SMTP_CONNECTIONS"] = "4"
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-120))
        let orders = try EventEditing.orders(100, confirmedAt: past, adminNoticeOnly: true)
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: orders).status == 0)
        let drain = try ChildProcess(executable: TestEnvironment.binary, arguments: ["drain"], environment: env, directory: dir)
        _ = try await server.waitForMessages(10, seconds: 20)
        drain.signal(SIGTERM)
        let stopped = await drain.wait()
        #expect(stopped.status == 143, "exit \(stopped.status): \(stopped.stderr)")
        #expect(stopped.stderr.contains("flexpost: SIGTERM received: finishing the attempts in flight, then stopping"))
        #expect(stopped.stderr.contains("flexpost: drain stopped by SIGTERM: "), "\(stopped.stderr)")
        let arrived = try server.messages().count
        #expect(arrived < 100, "stopped mid-way")
        #expect(stopped.stdout == "drain: \(arrived) sent, 0 retrying, 0 dead\n", "every arrived message was recorded: \(stopped.stdout)")
        let sending = try await flexpost(["list", "--state", "sending"], environment: env, directory: dir)
        #expect(sending.stdout.hasSuffix("0 deliveries\n"), "claims were given back: \(sending.stdout)")
        // The next run sends the rest, none twice.
        let next = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(next.status == 0)
        #expect(next.stdout == "drain: \(100 - arrived) sent, 0 retrying, 0 dead\n")
        let all = try await server.waitForMessages(100)
        #expect(all.count == 100 && Set(all.map(\.rcptTos[0])).count == 100)
    }

    @Test("an input file that cannot be read is a usage error (exit 2) naming it and why, found before any event is taken")
    func unreadableInput() async throws {
        let dir = try TestEnvironment.temporaryDirectory("unreadable")
        let env = TestEnvironment.baseEnvironment()
        let missing = dir.appendingPathComponent("missing.json").path
        let enqueue = try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json"), missing],
                                         environment: env, directory: dir)
        #expect(enqueue.status == 2)
        #expect(enqueue.stderr == "flexpost: cannot read \(missing): no such file\n", "\(enqueue.stderr)")
        #expect(enqueue.stdout.isEmpty, "nothing taken: \(enqueue.stdout)")
        let status = try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir)
        #expect(status.status == 1 && status.stderr.contains("unknown order"), "the first file was not taken either")
        let preview = try await flexpost(["preview", dir.path, "--kind", "access-data"], environment: env, directory: dir)
        #expect(preview.status == 2)
        #expect(preview.stderr == "flexpost: cannot read \(dir.path): it is a directory\n", "\(preview.stderr)")
    }

    @Test("serve whose address is taken exits 2 naming FLEXPOST_HTTP_ADDRESS and the reason")
    func addressInUse() async throws {
        // Another process listens on the port.
        let (fd, port) = TestEnvironment.boundSocket()
        defer { close(fd) }
        #expect(port > 0 && listen(fd, 1) == 0)
        let dir = try TestEnvironment.temporaryDirectory("address-in-use")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_HTTP_ADDRESS"] = "127.0.0.1:\(port)"
        let serve = try await flexpost(["serve"], environment: env, directory: dir)
        #expect(serve.status == 2)
        #expect(serve.stderr.hasSuffix(
            "flexpost: configuration error: FLEXPOST_HTTP_ADDRESS 127.0.0.1:\(port): cannot listen: address already in use\n"),
            "\(serve.stderr)")
    }

    @Test("--help and help COMMAND print the usage and exit 0", arguments: [["--help"], ["drain", "--help"], ["help", "resend"], ["list", "-h"]])
    func help(arguments: [String]) async throws {
        let dir = try TestEnvironment.temporaryDirectory("help")
        let result = try await flexpost(arguments, environment: TestEnvironment.baseEnvironment(), directory: dir)
        #expect(result.status == 0, "\(arguments): \(result.status) \(result.stderr)")
        #expect(result.stdout.contains("USAGE: flexpost"), "\(result.stdout)")
        #expect(result.stderr.isEmpty, "\(result.stderr)")
    }

    @Test("drain on a terminal shows done / total and the rate; piped, only the summary")
    func drainProgress() async throws {
        let dir = try TestEnvironment.temporaryDirectory("progress")
        let env = TestEnvironment.baseEnvironment()
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json"),
                                    TestEnvironment.fixture("order-second-base-package.json")], environment: env, directory: dir).status == 0)
        // `script` gives the command a pseudo-terminal as stdout.
        let command = "'\(TestEnvironment.binary)' drain --now 2026-12-01T08:00:00+01:00"
        let tty = try await ChildProcess(executable: "/usr/bin/script", arguments: ["-qec", command, "/dev/null"],
                                         environment: env, directory: dir).wait()
        #expect(tty.status == 0, "\(tty.stdout)\(tty.stderr)")
        #expect(tty.stdout.contains("\r5/5 done"), "\(tty.stdout)")
        #expect(tty.stdout.contains("/s (5 sent, 0 retrying, 0 dead)"))
        #expect(tty.stdout.contains("drain: 5 sent, 0 retrying, 0 dead"))
        let piped = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(piped.stdout == "drain: 0 sent, 0 retrying, 0 dead\n")
    }
}
