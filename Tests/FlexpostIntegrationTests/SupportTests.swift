import Foundation
import Testing
@testable import FlexpostTestSupport

/// R7 resend, R8 retention, and the support API behind its bearer token.
@Suite("support: resend, purge, support API")
struct SupportTests {
    @Test("resend of access data after activation: no OTP, new Message-ID, same recipient; history shows actor and reason; after purge it fails")
    func resendAccessData() async throws {
        let s = try await BusinessRulesTests.Setup("resend")
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        _ = try await s.drain("2026-12-01T08:00:00+01:00")
        let original = try #require(try s.server.messages().first)
        #expect(try #require(original.part("text/plain")).contains("K9vR-7tXq-M2wL"))

        #expect(try await s.enqueue(fixture: "portal-account-activated.json").status == 0)
        let resend = try await s.run(["resend", "ORD-2026-004800", "--kind", "access-data",
                                      "--reason", "customer lost the mail", "--actor", "agent.smith"])
        #expect(resend.status == 0, "\(resend.stderr)")
        _ = try await s.run(["drain"])
        let messages = try await s.server.waitForMessages(2)
        #expect(messages.count == 2)
        let again = messages[1]
        #expect(again.rcptTos == original.rcptTos)
        #expect(again.messageId != original.messageId)
        let text = try #require(again.part("text/plain"))
        #expect(!text.contains("K9vR-7tXq-M2wL"), "R2 decided again at sending")
        #expect(text.contains("Zr5m-Pq8d-Yc1v"))

        let status = try await s.run(["status", "ORD-2026-004800"])
        #expect(status.stdout.contains("agent.smith\tresend\taccess-data by agent.smith: customer lost the mail"))

        // 31 days after sending the secrets are purged; a resend then fails with a clear message.
        let early = try await s.run(["purge", "--now", "2026-12-20T00:00:00Z"])
        #expect(early.stdout.contains("secrets of 0 orders"))
        let purge = try await s.run(["purge", "--now", "2027-01-15T00:00:00Z"])
        #expect(purge.stdout.contains("secrets of 1 orders"), "\(purge.stdout)\(purge.stderr)")
        let refused = try await s.run(["resend", "ORD-2026-004800", "--kind", "access-data", "--reason", "again", "--actor", "agent.smith"])
        #expect(refused.status == 1)
        #expect(refused.stderr.contains("secrets were purged"))
        // Delivery records without secrets stay.
        let after = try await s.run(["status", "ORD-2026-004800", "--json"])
        #expect(after.stdout.contains("\"secretsPurged\" : true"))
        #expect(after.stdout.contains("\"state\" : \"sent\""))
    }

    @Test("R1/R5 and R7: access data not sent yet, and any mail of a cancelled order, are refused with the reason (exit 1)")
    func resendRefusedBeforeSendingAndAfterCancel() async throws {
        let s = try await BusinessRulesTests.Setup("resend-refused")
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        // Still scheduled for the next morning: a resend would send the credentials early, and twice.
        let early = try await s.run(["resend", "ORD-2026-004800", "--kind", "access-data", "--reason", "r", "--actor", "a"])
        #expect(early.status == 1)
        #expect(early.stderr.contains("still scheduled for 2026-12-01T07:00:00Z"), "\(early.stderr)")
        #expect(try await s.run(["list", "--state", "scheduled"]).stdout.contains("1 deliveries"), "nothing new scheduled")

        // Administrator notices of a cancelled order would announce products that will not come.
        #expect(try await s.enqueue(fixture: "order-second-base-package.json").status == 0)
        _ = try await s.drain("2026-11-30T19:00:00+01:00")
        #expect(try await s.enqueue(fixture: "order-cancelled.json").status == 0)
        let notice = try await s.run(["resend", "ORD-2026-004712", "--kind", "admin-notice", "--reason", "r", "--actor", "a"])
        #expect(notice.status == 1)
        #expect(notice.stderr.contains("the order was cancelled"), "\(notice.stderr)")
        let status = try await s.run(["status", "ORD-2026-004712"])
        #expect(status.stdout.contains("resend-refused\torder cancelled; admin-notice by a: r"), "\(status.stdout)")
    }

    @Test("resend of administrator notices goes to the same administrators; unknown orders and bad kinds fail")
    func resendNotices() async throws {
        let s = try await BusinessRulesTests.Setup("resend-notice")
        #expect(try await s.enqueue(fixture: "order-second-base-package.json").status == 0)
        let resend = try await s.run(["resend", "ORD-2026-004712", "--kind", "admin-notice", "--reason", "r", "--actor", "a"])
        #expect(resend.stdout.contains("2 deliveries scheduled"))
        #expect(try await s.run(["resend", "ORD-NOPE", "--kind", "admin-notice", "--reason", "r", "--actor", "a"]).status == 1)
        #expect(try await s.run(["resend", "ORD-2026-004712", "--kind", "everything", "--reason", "r", "--actor", "a"]).status == 2)
        #expect(try await s.run(["resend", "ORD-2026-004712", "--kind", "admin-notice", "--reason", "", "--actor", "a"]).status == 2)
    }

    @Test("resend limit: at most FLEXPOST_RESEND_LIMIT per order per day, refusals recorded")
    func resendLimit() async throws {
        let s = try await BusinessRulesTests.Setup("resend-limit")
        #expect(try await s.enqueue(fixture: "order-second-site.json").status == 0)
        var statuses: [Int32] = []
        for _ in 0..<6 {
            statuses.append(try await s.run(["resend", "ORD-2026-004711", "--kind", "admin-notice", "--reason", "r", "--actor", "a"]).status)
        }
        #expect(statuses == [0, 0, 0, 0, 0, 1])
        let status = try await s.run(["status", "ORD-2026-004711"])
        #expect(status.stdout.contains("resend-refused"))
    }

    @Test("support API: 401 without or with a wrong token; 200 JSON without secrets; 404 unknown; resend 202 / 409 after cancel")
    func supportAPI() async throws {
        // A relay that does not answer: nothing leaves, so the cancellation below
        // always finds the mail unsent (with a relay, whether it was sent already
        // would depend on timing).
        let dir = try TestEnvironment.temporaryDirectory("support-api")
        var env = TestEnvironment.baseEnvironment(smtpPort: TestEnvironment.freePort())
        env["FLEXPOST_SUPPORT_TOKEN"] = "support-token-for-tests"
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-base-package.json"),
                                    TestEnvironment.fixture("order-new-customer.json")], environment: env, directory: dir).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)
        let url = serve.base + "/v1/orders/ORD-2026-004800"
        #expect(try await HTTPClient.send("GET", url).status == 401)
        #expect(try await HTTPClient.send("GET", url, headers: ["authorization": "Bearer wrong"]).status == 401)
        // The scheme is case-insensitive (RFC 9110); the token is not.
        for scheme in ["bearer", "BEARER"] {
            let answer = try await HTTPClient.send("GET", url, headers: ["authorization": "\(scheme) support-token-for-tests"])
            #expect(answer.status == 200, "\(scheme): \(answer.status)")
        }
        #expect(try await HTTPClient.send("GET", url, headers: ["authorization": "Bearer SUPPORT-TOKEN-FOR-TESTS"]).status == 401)
        let auth = ["authorization": "Bearer support-token-for-tests"]
        let order = try await HTTPClient.send("GET", url, headers: auth)
        #expect(order.status == 200)
        #expect(order.body.contains("\"orderId\":\"ORD-2026-004800\""))
        for secret in ["K9vR-7tXq-M2wL", "Zr5m-Pq8d-Yc1v"] { #expect(!order.body.contains(secret)) }
        #expect(try await HTTPClient.send("GET", serve.base + "/v1/orders/ORD-NOPE", headers: auth).status == 404)

        let body = Data(#"{"kind":"admin-notice","reason":"admin lost it","actor":"agent.jones"}"#.utf8)
        let resendURL = serve.base + "/v1/orders/ORD-2026-004712/resend"
        #expect(try await HTTPClient.send("POST", resendURL, body: body).status == 401)
        let accepted = try await HTTPClient.send("POST", resendURL, headers: auth, body: body)
        #expect(accepted.status == 202, "\(accepted.body)")
        let bad = try await HTTPClient.send("POST", resendURL, headers: auth, body: Data(#"{"kind":"x"}"#.utf8))
        #expect(bad.status == 400)
        #expect(try await HTTPClient.send("POST", serve.base + "/v1/orders/NOPE/resend", headers: auth, body: body).status == 404)

        let cancel = try Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture("order-cancelled.json")))
        #expect(try await serve.post(cancel).status == 202)
        let access = Data(#"{"kind":"access-data","reason":"r","actor":"a"}"#.utf8)
        let refused = try await HTTPClient.send("POST", resendURL, headers: auth, body: access)
        #expect(refused.status == 409 && refused.body.contains("secrets were purged"), "\(refused.body)")
        let notice = try await HTTPClient.send("POST", resendURL, headers: auth, body: body)
        #expect(notice.status == 409 && notice.body.contains("the order was cancelled"), "\(notice.body)")
        _ = await serve.terminate()
    }

    @Test("serve purges on its own: secrets of an order sent more than FLEXPOST_RETENTION_DAYS ago are destroyed at start")
    func servePurges() async throws {
        let s = try await BusinessRulesTests.Setup("serve-purge")
        let old = EventEditing.data("order-second-site.json", [("data.confirmedAt", "2026-09-01T10:00:00+02:00")])
        #expect(try await s.enqueue(old).status == 0)
        #expect(try await s.enqueue(fixture: "order-new-customer.json").status == 0)
        _ = try await s.drain("2026-09-02T08:00:00+02:00")
        let serve = try await ServeProcess(environment: s.env, directory: s.dir)
        var purged = false
        for _ in 0..<100 where !purged {
            purged = try await s.run(["status", "ORD-2026-004711"]).stdout.contains("secrets purged")
            if !purged { try await Task.sleep(for: .milliseconds(50)) }
        }
        _ = await serve.terminate()
        #expect(purged)
        let recent = try await s.run(["status", "ORD-2026-004800"])
        #expect(!recent.stdout.contains("secrets purged"), "the recent order keeps its secrets")
        #expect(try await s.run(["status", "ORD-2026-004711"]).stdout.contains("flexpost\tpurged"))
    }
}
