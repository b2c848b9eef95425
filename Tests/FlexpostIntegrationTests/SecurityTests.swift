import FlexpostCore
import FlexpostSMTP
import Foundation
import GRDB
import Testing
@testable import FlexpostTestSupport

/// Key rotation through the command line, and ciphertexts bound to their rows.
@Suite("security")
struct SecurityTests {
    @Test("rotation: new key first, rekey, then the old key retired; mail still carries the password, a replayed event is still a duplicate")
    func rotation() async throws {
        let s = try await BusinessRulesTests.Setup("rotation")
        var env = s.env
        env["FLEXPOST_ENCRYPTION_KEY"] = StoreConformance.oldKey
        let event = TestEnvironment.fixture("order-second-site.json")
        #expect(try await flexpost(["enqueue", event], environment: env, directory: s.dir).status == 0)
        env["FLEXPOST_ENCRYPTION_KEY"] = StoreConformance.newKey + "," + StoreConformance.oldKey
        let rekey = try await flexpost(["rekey"], environment: env, directory: s.dir)
        #expect(rekey.status == 0, "\(rekey.stderr)")
        // The access password and the queue's fingerprint key.
        #expect(rekey.stdout == "rekey: 2 secrets re-encrypted under key new, 0 could not be opened\n")
        env["FLEXPOST_ENCRYPTION_KEY"] = StoreConformance.newKey
        // The order system sends the same event again after the old key was retired: a duplicate, not a conflict.
        let replay = try await flexpost(["enqueue", event], environment: env, directory: s.dir)
        #expect(replay.stdout == "duplicate order.confirmed ORD-2026-004711\n", "\(replay.stdout)\(replay.stderr)")
        let changed = EventEditing.data("order-second-site.json", [("data.items[0].access.password", "other")])
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: s.dir, stdin: changed).stdout
            == "conflict order.confirmed ORD-2026-004711\n")
        #expect(try await flexpost(["drain", "--now", "2026-12-01T08:00:00+01:00"], environment: env, directory: s.dir).status == 0)
        let mail = try #require(try s.server.messages().first { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] })
        #expect(try #require(mail.part("text/plain")).contains("s7Qp-Lx2r-9vTm"))
    }

    @Test("a key that does not open what the queue holds stops every command at start (exit 2, naming the key ids), before any mail goes dead")
    func unknownKeyRefused() async throws {
        let s = try await BusinessRulesTests.Setup("unknown-key")
        var env = s.env
        env["FLEXPOST_ENCRYPTION_KEY"] = StoreConformance.oldKey
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: s.dir).status == 0)
        env["FLEXPOST_ENCRYPTION_KEY"] = StoreConformance.newKey
        for command in [["drain", "--now", "2026-12-01T08:00:00+01:00"], ["status", "ORD-2026-004711"], ["serve"]] {
            let refused = try await flexpost(command, environment: env, directory: s.dir)
            #expect(refused.status == 2, "\(command)")
            #expect(refused.stderr.contains("key id old") && refused.stderr.contains("it has new"), "\(command): \(refused.stderr)")
        }
        env["FLEXPOST_ENCRYPTION_KEY"] = StoreConformance.oldKey
        #expect(try await flexpost(["list", "--state", "dead"], environment: env, directory: s.dir).stdout.contains("0 deliveries"))
    }

    @Test("the generated key lives beside the SQLite file: commands run from other directories on the same file use it")
    func keyFileBesideTheDatabase() async throws {
        let s = try await BusinessRulesTests.Setup("key-beside")
        let queue = s.dir.appendingPathComponent("data/queue.sqlite").path
        var env = s.env
        env["FLEXPOST_ENCRYPTION_KEY"] = nil
        env["FLEXPOST_DATABASE_URL"] = "sqlite:" + queue
        let first = try TestEnvironment.temporaryDirectory("key-beside-a"), second = try TestEnvironment.temporaryDirectory("key-beside-b")
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: first).status == 0)
        let drain = try await flexpost(["drain", "--now", "2026-12-01T08:00:00+01:00"], environment: env, directory: second)
        #expect(drain.status == 0 && drain.stdout.contains("2 sent"), "\(drain.stdout)\(drain.stderr)")
        #expect(FileManager.default.fileExists(atPath: s.dir.appendingPathComponent("data/flexpost.key").path))
        for directory in [first, second] {
            #expect(!FileManager.default.fileExists(atPath: directory.appendingPathComponent("queue/flexpost.key").path))
        }
    }

    @Test("the queue, the key and the outbox are for flexpost's user only; R8 deletes old outbox files; starts warn about the outbox and a readable key")
    func privateFiles() async throws {
        let dir = try TestEnvironment.temporaryDirectory("private-files")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_ENCRYPTION_KEY"] = nil
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        let drain = try await flexpost(["drain", "--now", "2026-12-01T08:00:00+01:00"], environment: env, directory: dir)
        #expect(drain.stdout.contains("2 sent"), "\(drain.stdout)\(drain.stderr)")
        #expect(drain.stderr.contains("mail is written to files, not sent"), "\(drain.stderr)")
        func mode(_ path: String) throws -> Int {
            try #require(FileManager.default.attributesOfItem(atPath: dir.appendingPathComponent(path).path)[.posixPermissions] as? Int)
        }
        let outbox = dir.appendingPathComponent("queue/outbox")
        let mails = try FileManager.default.contentsOfDirectory(atPath: outbox.path).filter { $0.hasSuffix(".eml") }.sorted()
        #expect(mails.count == 2)
        for path in ["queue", "queue/outbox"] { #expect(try mode(path) == 0o700, "\(path)") }
        for path in ["queue/flexpost.sqlite", "queue/flexpost.key"] + mails.map({ "queue/outbox/" + $0 }) {
            #expect(try mode(path) == 0o600, "\(path)")
        }

        // R8: an outbox file older than the retention goes with the secrets; a recent one stays.
        let old = outbox.appendingPathComponent(mails[0])
        try FileManager.default.setAttributes([.modificationDate: Date().addingTimeInterval(-40 * 86_400)], ofItemAtPath: old.path)
        let purge = try await flexpost(["purge"], environment: env, directory: dir)
        #expect(purge.stdout.contains("1 outbox files deleted"), "\(purge.stdout)\(purge.stderr)")
        #expect(!FileManager.default.fileExists(atPath: old.path))
        #expect(FileManager.default.fileExists(atPath: outbox.appendingPathComponent(mails[1]).path))

        try FileManager.default.setAttributes([.posixPermissions: 0o644], ofItemAtPath: dir.appendingPathComponent("queue/flexpost.key").path)
        let list = try await flexpost(["list"], environment: env, directory: dir)
        #expect(list.stderr.contains("the key file can be read by others"), "\(list.stderr)")
    }

    @Test("a ciphertext copied into another order's row does not decrypt: the delivery dies instead of leaking")
    func movedCiphertext() async throws {
        let s = try await BusinessRulesTests.Setup("moved")
        #expect(try await s.enqueue(fixture: "order-second-site.json").status == 0)
        let other = EventEditing.data("order-second-site.json", [
            ("data.orderId", "ORD-OTHER"), ("data.customer.contact.email", "other@example.com"),
            ("data.items[0].access.password", "Other-Secret-9"),
        ])
        #expect(try await s.enqueue(other).status == 0)
        // An attacker with write access to the database swaps ciphertexts between orders.
        let queue = try DatabaseQueue(path: s.dir.appendingPathComponent("queue/flexpost.sqlite").path)
        try await queue.write { db in
            try db.execute(sql: """
                UPDATE secrets SET ciphertext = (SELECT ciphertext FROM secrets WHERE order_id = 'ORD-OTHER')
                WHERE order_id = 'ORD-2026-004711'
                """)
        }
        let drain = try await s.drain("2026-12-01T08:00:00+01:00")
        #expect(drain.status == 1)
        #expect(drain.stdout.contains("1 dead"))
        let received = try s.server.messages()
        #expect(!received.contains { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] })
        #expect(!received.contains { String(decoding: $0.raw, as: UTF8.self).contains("Other-Secret-9") && $0.rcptTos != ["other@example.com"] })
        let status = try await s.run(["status", "ORD-2026-004711"])
        #expect(status.stdout.contains("cannot be decrypted"))
    }

    @Test("TLS policy: an untrusted certificate fails (verification is always on), and so does a relay below TLS 1.2")
    func tlsPolicy() async throws {
        let (bytes, envelope) = TestMail.message(to: "erika@example.com")
        // Self-signed and not in the trust store: refused, nothing sent, AUTH never sent.
        let untrusted = try await SMTPTestServer(.init(tls: true, requireTLS: true, auth: "flexpost:pw-1"))
        let noCA = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(untrusted.port)", security: .requireSTARTTLS, username: "flexpost",
            password: Secret("pw-1"), caFile: nil, connectTimeout: 5, transactionTimeout: 5))
        guard case .transientFailure = await noCA.send(bytes, envelope: envelope) else {
            Issue.record("sent over an unverified TLS connection")
            return
        }
        #expect(try untrusted.messages().isEmpty)
        // Trusted certificate, but only TLS 1.0/1.1 offered: refused.
        let old = try await SMTPTestServer(.init(tls: true, oldTLS: true, requireTLS: true))
        // That relay does take a client that offers TLS 1.1 (Python's smtplib below): the refusal
        // that follows is flexpost's policy, not a server that takes nobody.
        let oldClient = """
            import smtplib, ssl, sys
            context = ssl.create_default_context(cafile=sys.argv[2])
            context.set_ciphers("DEFAULT@SECLEVEL=0")
            context.minimum_version = ssl.TLSVersion.TLSv1
            context.maximum_version = ssl.TLSVersion.TLSv1_1
            smtp = smtplib.SMTP("127.0.0.1", int(sys.argv[1]), timeout=5)
            smtp.starttls(context=context)
            print(smtp.sock.version())
            smtp.quit()
            """
        let probe = try await ChildProcess(
            executable: "/usr/bin/python3", arguments: ["-c", oldClient, String(old.port), old.caFile],
            environment: ProcessInfo.processInfo.environment, directory: FileManager.default.temporaryDirectory
        ).wait()
        #expect(probe.status == 0 && probe.stdout.hasPrefix("TLSv1"), "an old client reaches the old relay: \(probe.stdout)\(probe.stderr)")
        let modern = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(old.port)", security: .requireSTARTTLS, caFile: old.caFile,
            connectTimeout: 5, transactionTimeout: 5))
        guard case .transientFailure(_, let reply) = await modern.send(bytes, envelope: envelope) else {
            Issue.record("sent over TLS below 1.2")
            return
        }
        #expect(reply.localizedCaseInsensitiveContains("ssl") || reply.localizedCaseInsensitiveContains("tls"),
                "refused in the TLS handshake, not for another reason: \(reply)")
        #expect(try old.messages().isEmpty)
        // The same trusted certificate with a modern relay works (the two failures above are the policy).
        let good = try await SMTPTestServer(.init(tls: true, requireTLS: true))
        let trusted = SMTPTransport(configuration: SMTPConfiguration(
            url: "smtp://127.0.0.1:\(good.port)", security: .requireSTARTTLS, caFile: good.caFile))
        guard case .accepted = await trusted.send(bytes, envelope: envelope) else {
            Issue.record("a trusted modern relay was refused")
            return
        }
    }
}
