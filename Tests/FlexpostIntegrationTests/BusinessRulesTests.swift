import Foundation
import Testing
@testable import FlexpostTestSupport

/// R2–R5 and idempotency through the real binary and a real SMTP server.
@Suite("business rules end to end")
struct BusinessRulesTests {
    struct Setup {
        let server: SMTPTestServer
        let dir: URL
        let env: [String: String]

        init(_ label: String) async throws {
            server = try await SMTPTestServer()
            dir = try TestEnvironment.temporaryDirectory(label)
            env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        }

        func run(_ arguments: [String], stdin: Data? = nil) async throws -> ProcessResult {
            try await flexpost(arguments, environment: env, directory: dir, stdin: stdin)
        }

        func enqueue(_ data: Data) async throws -> ProcessResult { try await run(["enqueue", "-"], stdin: data) }
        func enqueue(fixture: String) async throws -> ProcessResult { try await run(["enqueue", TestEnvironment.fixture(fixture)]) }
        func drain(_ at: String) async throws -> ProcessResult { try await run(["drain", "--now", at]) }
    }

    @Test("R2 across time: pending at intake, activated before the due time: the mail leaves without the OTP")
    func activationBeforeSending() async throws {
        let s = try await Setup("r2")
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        #expect(try await s.enqueue(fixture: "portal-account-activated.json").stdout
            == "accepted portal.account.activated 5500999001\n")
        let drain = try await s.drain("2026-12-01T08:00:00+01:00")
        #expect(drain.stdout.contains("1 sent"))
        let mail = try #require(try s.server.messages().first)
        let text = try #require(mail.part("text/plain"))
        #expect(!text.contains("K9vR-7tXq-M2wL"))
        #expect(!mail.raw.contains(Data("K9vR".utf8)))
        #expect(text.contains("already active"))
        #expect(text.contains("Zr5m-Pq8d-Yc1v"), "the router password is still there")
    }

    @Test("R2: a pending account without activation gets its OTP")
    func pendingGetsOTP() async throws {
        let s = try await Setup("r2-pending")
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        // The sealed row the known-active test below looks for, spelled the same way.
        #expect(try StoreSnapshot.rows(s.dir).contains("purpose:\"otp\""))
        _ = try await s.drain("2026-12-01T08:00:00+01:00")
        let mail = try #require(try s.server.messages().first)
        #expect(try #require(mail.part("text/plain")).contains("K9vR-7tXq-M2wL"))
        #expect(try #require(mail.part("text/html")).contains("K9vR-7tXq-M2wL"))
        #expect(mail.subject.hasPrefix("Your CompanyFlex access data"))
    }

    @Test("R2: an OTP inside an active account's event is never stored, printed or sent")
    func otpForActiveAccountDiscarded() async throws {
        let s = try await Setup("r2-discard")
        let otp = "DISCARD-ME-7Qx9"
        let event = EventEditing.data("order-second-site.json", [("data.portal.oneTimePassword", otp)])
        let intake = try await s.enqueue(event)
        #expect(intake.status == 0)
        let drains = [try await s.drain("2026-11-30T15:12:00+01:00"), try await s.drain("2026-12-01T08:00:00+01:00")]
        let status = try await s.run(["status", "ORD-2026-004711", "--json"])
        let everything = ([intake, status] + drains).map { $0.stdout + $0.stderr }.joined() + StoreSnapshot.bytes(s.dir)
            + (try s.server.messages()).map { String(decoding: $0.raw, as: UTF8.self) + ($0.part("text/plain") ?? "") }.joined()
        #expect(try s.server.messages().count == 2)
        #expect(!everything.contains(otp))
        #expect(!everything.contains("DISCARD-ME"))
    }

    @Test("R2: an OTP arriving for a customer already known active is discarded too")
    func otpAfterActivationDiscarded() async throws {
        let s = try await Setup("r2-known")
        #expect(try await s.enqueue(fixture: "portal-account-activated.json").status == 0)
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        // Secrets are encrypted at rest, so the plaintext never shows in the file:
        // the OTP's sealed row is what must be missing.
        #expect(!(try StoreSnapshot.rows(s.dir)).contains("purpose:\"otp\""))
        _ = try await s.drain("2026-12-01T08:00:00+01:00")
        #expect(!StoreSnapshot.bytes(s.dir).contains("K9vR-7tXq-M2wL"))
        let mail = try #require(try s.server.messages().first)
        #expect(!mail.raw.contains(Data("K9vR".utf8)))
    }

    @Test("R3: one notice per administrator at once, without credentials")
    func administratorNotices() async throws {
        let s = try await Setup("r3")
        #expect(try await s.enqueue(fixture: "order-second-base-package.json").status == 0)
        let drain = try await s.drain("2026-11-30T10:40:00+01:00")
        #expect(drain.stdout.contains("2 sent"))
        let notices = try s.server.messages()
        #expect(Set(notices.flatMap(\.rcptTos)) == ["bsp-admin@mueller-logistik.example", "it@mueller-logistik.example"])
        for notice in notices {
            let text = try #require(notice.part("text/plain"))
            #expect(text.contains("SP-300500") && text.contains("GP-100300") && text.contains("+49 40 5550101"))
            let raw = String(decoding: notice.raw, as: UTF8.self) + text + (notice.part("text/html") ?? "")
            for credential in ["Hq4t-Wz8n-3kPe", "ank001234567999", "001234567999"] {
                #expect(!raw.contains(credential))
            }
        }
    }

    @Test("R4: services only: nothing sent, recorded so")
    func servicesOnly() async throws {
        let s = try await Setup("r4")
        #expect(try await s.enqueue(fixture: "order-services-only.json").status == 0)
        let drain = try await s.drain("2026-12-05T08:00:00+01:00")
        #expect(drain.stdout.contains("drain: 0 sent"))
        #expect(try s.server.messages().isEmpty)
        let status = try await s.run(["status", "ORD-2026-004713"])
        #expect(status.stdout.contains("services only"))
    }

    @Test("R5: cancelled before sending: deliveries cancelled, secrets destroyed; after sending: recorded, nothing changes")
    func cancellation() async throws {
        let s = try await Setup("r5")
        #expect(try await s.enqueue(fixture: "order-second-base-package.json").status == 0)
        _ = try await s.drain("2026-11-30T10:40:00+01:00")  // the two notices leave at once
        #expect(try await s.enqueue(fixture: "order-cancelled.json").stdout == "accepted order.cancelled ORD-2026-004712\n")
        let drain = try await s.drain("2026-12-01T08:00:00+01:00")
        #expect(drain.stdout.contains("drain: 0 sent"))
        #expect(try s.server.messages().count == 2)
        let status = try await s.run(["status", "ORD-2026-004712", "--json"])
        let report = try #require(try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any])
        let deliveries = try #require(report["deliveries"] as? [[String: Any]])
        let states = deliveries.map { "\($0["kind"] as? String ?? "?") \($0["state"] as? String ?? "?")" }
        #expect(states == ["access-data cancelled", "admin-notice sent", "admin-notice sent"])
        #expect(report["secretsPurged"] as? Bool == true)
        let rows = try StoreSnapshot.rows(s.dir)
        #expect(!rows.contains("access:SP-300500"), "the sealed password row is gone")
        // The same cancellation again is a duplicate and changes nothing.
        #expect(try await s.enqueue(fixture: "order-cancelled.json").stdout.hasPrefix("duplicate"))
        #expect(try StoreSnapshot.rows(s.dir) == rows)
    }

    @Test("conflict: same orderId, changed password: refused; the original password is delivered")
    func conflict() async throws {
        let s = try await Setup("conflict")
        #expect(try await s.enqueue(fixture: "order-second-site.json").status == 0)
        let before = try StoreSnapshot.rows(s.dir)
        let changed = EventEditing.data("order-second-site.json", [("data.items[0].access.password", "CHANGED-pw-1")])
        let result = try await s.enqueue(changed)
        #expect(result.status == 1)
        #expect(result.stdout == "conflict order.confirmed ORD-2026-004711\n")
        #expect(try StoreSnapshot.rows(s.dir) == before)
        _ = try await s.drain("2026-12-01T08:00:00+01:00")
        let access = try #require(try s.server.messages().first { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] })
        #expect(try #require(access.part("text/plain")).contains("s7Qp-Lx2r-9vTm"))
        #expect(!access.raw.contains(Data("CHANGED".utf8)))
        // The identical event again is a duplicate: nothing new scheduled.
        #expect(try await s.enqueue(fixture: "order-second-site.json").stdout.hasPrefix("duplicate"))
    }

    @Test("rejections: each names the field, exit 1, store rows unchanged", arguments: [
        ("data.items[0].access.password", nil as String?),
        ("data.customer.contact.name", "Erika\r\nBcc: victim@example.com"),
        ("data.customer.company", "Müller\nSöhne"),
        ("data.customer.contact.email", "erika@"),
        ("data.customer.contact.email", "erika@example.com\r\nRCPT TO:<victim@example.com>"),
        ("data.customer.contact.email", "müller@example.com"),
        ("data.portal.administrators[0].email", "admin@exa mple.com"),
        ("data.portal.administrators[0].name", "Jörg\u{0}"),
        ("data.items[1].kind", "voucher"),
        ("data.customer.language", "fr"),
        ("data.confirmedAt", "30.11.2026"),
        ("data.confirmedAt", "2026-11-30T15:12:00"),
        ("data.portal.accountStatus", "locked"),
        ("data.items[0].site.city", "Köln\u{2028}"),
        ("data.items[0].phoneNumbers[0]", "call me"),
        ("data.items[0].siteProductId", "SP 300401"),
        ("data.orderId", nil),
        ("data.customer", nil),
        ("data.items[0].access.username", ""),
        ("type", "order.shipped"),
        ("timestamp", "yesterday"),
        ("data.items[0].site.name", String(repeating: "x", count: 300)),
    ])
    func rejections(field: String, value: String?) async throws {
        let s = try await Setup("reject")
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        let before = try StoreSnapshot.rows(s.dir)
        let bad = EventEditing.data("order-second-site.json", [(field, value)])
        let result = try await s.enqueue(bad)
        #expect(result.status == 1)
        #expect(result.stdout.hasPrefix("rejected "))
        #expect(result.stdout.contains(" \(field) "), "\(result.stdout)")
        #expect(try StoreSnapshot.rows(s.dir) == before)
    }

    @Test("rejections: a 2 MiB body and a non-object")
    func rejectedBodies() async throws {
        let s = try await Setup("reject-body")
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        let before = try StoreSnapshot.rows(s.dir)
        let padded = EventEditing.data("order-second-site.json", [("data.padding", String(repeating: "x", count: 2 << 20))])
        let huge = try await s.enqueue(padded)
        #expect(huge.status == 1)
        #expect(huge.stdout.contains(" body must be at most 1 MiB"))
        let array = try await s.enqueue(Data("[1, 2, 3]".utf8))
        #expect(array.status == 1)
        #expect(array.stdout.hasPrefix("rejected - - body "))
        #expect(try StoreSnapshot.rows(s.dir) == before)
    }

    @Test("enqueue takes JSON Lines: one result line per event")
    func jsonLines() async throws {
        let s = try await Setup("jsonl")
        var lines = Data()
        for name in ["order-second-site.json", "order-services-only.json", "portal-account-activated.json"] {
            lines += try JSONSerialization.data(withJSONObject: EventEditing.load(name)) + Data("\n".utf8)
        }
        lines += Data("{not json}\n".utf8)
        let result = try await s.enqueue(lines)
        #expect(result.status == 1)
        #expect(result.stdout.split(separator: "\n").map { String($0.split(separator: " ")[0]) }
            == ["accepted", "accepted", "accepted", "rejected"])
    }
}
