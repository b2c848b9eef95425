import Foundation
import Testing
@testable import FlexpostTestSupport

/// The vertical slice through the real binary: an order enqueued, the
/// next-day access-data e-mail at 08:00 local over SMTP, checked by an
/// independent MIME parser; secrets only encrypted at rest.
@Suite("access data end to end")
struct AccessDataEndToEndTests {
    @Test("order-second-site: nothing at confirmedAt or 07:59 next day; at 08:00 the access-data mail arrives")
    func nextDayAtEight() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("e2e")
        let env = TestEnvironment.baseEnvironment(smtpPort: server.port)

        let enqueue = try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir)
        #expect(enqueue.status == 0, "\(enqueue.stderr)")
        #expect(enqueue.stdout == "accepted order.confirmed ORD-2026-004711\n")

        // At confirmedAt only the administrator notice (R3) is due.
        let atConfirmation = try await flexpost(["drain", "--now", "2026-11-30T15:12:00+01:00"], environment: env, directory: dir)
        #expect(atConfirmation.status == 0, "\(atConfirmation.stderr)")
        #expect(atConfirmation.stdout.contains("drain: 1 sent, 0 retrying, 0 dead"))
        var received = try server.messages()
        #expect(received.map(\.rcptTos) == [["bsp-admin@mueller-logistik.example"]])

        let before = try await flexpost(["drain", "--now", "2026-12-01T07:59:00+01:00"], environment: env, directory: dir)
        #expect(before.stdout.contains("drain: 0 sent"))
        #expect(try server.messages().count == 1)

        let due = try await flexpost(["drain", "--now", "2026-12-01T08:00:00+01:00"], environment: env, directory: dir)
        #expect(due.status == 0, "\(due.stderr)")
        #expect(due.stdout.contains("drain: 1 sent, 0 retrying, 0 dead"))
        received = try server.messages()
        #expect(received.count == 2)
        let mail = try #require(received.last)
        #expect(mail.rcptTos == ["erika.mueller@mueller-logistik.example"])
        #expect(mail.mailFrom == "noreply@companyflex.example")
        #expect(mail.subject == "Ihre Zugangsdaten für CompanyFlex – Auftrag ORD-2026-004711")
        #expect(mail.to == "Erika Müller <erika.mueller@mueller-logistik.example>")
        #expect(mail.defects.isEmpty, "\(mail.defects)")
        #expect(mail.contentType == "multipart/alternative")
        #expect(mail.parts.map(\.type) == ["text/plain", "text/html"])
        #expect(mail.parts.allSatisfy { $0.charset == "utf-8" && $0.transferEncoding == "quoted-printable" })
        let text = try #require(mail.part("text/plain"))
        #expect(text.contains("s7Qp-Lx2r-9vTm"))
        #expect(text.contains("001234567890"))
        #expect(text.contains("ank001234567890@ip.companyflex.example"))
        #expect(text.contains("Niederlassung Köln, Hohe Straße 12, 50667 Köln"))
        #expect(text.contains("+49 221 4711003"))
        #expect(try #require(mail.part("text/html")).contains("s7Qp-Lx2r-9vTm"))
        #expect(mail.autoSubmitted == "auto-generated")
        #expect(mail.mimeVersion == "1.0")
        #expect(mail.dateParsed == "2026-12-01T08:00:00+01:00")
        #expect(mail.messageId.hasPrefix("<") && mail.messageId.hasSuffix("@companyflex.example>"))
        #expect(!mail.eightBit && !mail.bareLF && mail.maxLineLength <= 78)
        #expect(!mail.subject.contains("s7Qp"))

        // Delivered once: another drain sends nothing more.
        let again = try await flexpost(["drain", "--now", "2026-12-02T08:00:00+01:00"], environment: env, directory: dir)
        #expect(again.stdout.contains("drain: 0 sent"))
        #expect(try server.messages().count == 2)

        let status = try await flexpost(["status", "ORD-2026-004711", "--json"], environment: env, directory: dir)
        #expect(status.status == 0)
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        let deliveries = try #require(report?["deliveries"] as? [[String: Any]])
        #expect(deliveries.map { $0["state"] as? String } == ["sent", "sent"])
        #expect(!status.stdout.contains("s7Qp-Lx2r-9vTm"))
    }

    @Test("the SQLite files hold none of the samples' passwords in plain text")
    func noPlaintextAtRest() async throws {
        let dir = try TestEnvironment.temporaryDirectory("rest")
        var env = TestEnvironment.baseEnvironment()
        env.removeValue(forKey: "FLEXPOST_ENCRYPTION_KEY")  // the generated key file is used
        let files = ["order-second-site.json", "order-new-customer.json", "order-second-base-package.json"]
        let enqueue = try await flexpost(["enqueue"] + files.map(TestEnvironment.fixture), environment: env, directory: dir)
        #expect(enqueue.status == 0, "\(enqueue.stderr)")
        let keyFile = dir.appendingPathComponent("queue/flexpost.key")
        let attributes = try FileManager.default.attributesOfItem(atPath: keyFile.path)
        #expect((attributes[.posixPermissions] as? Int) == 0o600)

        var stored = Data()
        for name in ["flexpost.sqlite", "flexpost.sqlite-wal", "flexpost.sqlite-shm"] {
            stored += (try? Data(contentsOf: dir.appendingPathComponent("queue/\(name)"))) ?? Data()
        }
        #expect(stored.count > 10_000)
        let haystack = String(decoding: stored, as: UTF8.self)
        #expect(haystack.contains("ORD-2026-004711"), "the order itself is stored")
        for secret in ["s7Qp-Lx2r-9vTm", "Zr5m-Pq8d-Yc1v", "Hq4t-Wz8n-3kPe", "K9vR-7tXq-M2wL"] {
            #expect(!haystack.contains(secret), "\(secret) in plain text at rest")
        }
        // The outbox transport delivers it with the key from the file: decryption works.
        let drain = try await flexpost(["drain", "--now", "2026-12-01T08:00:00+01:00"], environment: env, directory: dir)
        #expect(drain.status == 0, "\(drain.stderr)")
        let outbox = try FileManager.default.contentsOfDirectory(atPath: dir.appendingPathComponent("queue/outbox").path)
            .filter { $0.hasSuffix(".eml") }
        #expect(outbox.count == 6)  // 3 access-data mails, 3 administrator notices
    }

    @Test("CR, LF or control characters in header-bound values: refused before anything is stored")
    func controlCharacters() async throws {
        let dir = try TestEnvironment.temporaryDirectory("crlf")
        let env = TestEnvironment.baseEnvironment()
        var object = try JSONSerialization.jsonObject(
            with: Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture("order-second-site.json")))) as! [String: Any]
        var data = object["data"] as! [String: Any]
        var customer = data["customer"] as! [String: Any]
        var contact = customer["contact"] as! [String: Any]
        contact["email"] = "erika@example.com\r\nRCPT TO:<victim@example.com>"
        customer["contact"] = contact
        data["customer"] = customer
        object["data"] = data
        let bad = try JSONSerialization.data(withJSONObject: object)
        let result = try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: bad)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("rejected order.confirmed ORD-2026-004711 data.customer.contact.email "))
        let list = try await flexpost(["list", "--json"], environment: env, directory: dir)
        #expect(list.stdout.trimmingCharacters(in: .whitespacesAndNewlines) == "[\n\n]" || list.stdout.contains("[]"))
        // the sender's address from configuration is checked at start: exit 2
        var badSender = env
        badSender["FLEXPOST_MAIL_FROM"] = "CompanyFlex <noreply@companyflex.example>\r\nBcc: x@y.example"
        let start = try await flexpost(["drain"], environment: badSender, directory: dir)
        #expect(start.status == 2)
        #expect(start.stderr.contains("FLEXPOST_MAIL_FROM"))
    }
}
