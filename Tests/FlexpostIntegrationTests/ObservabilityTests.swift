import Foundation
import Testing
@testable import FlexpostTestSupport

/// Metrics, health, log formats, and no secret in anything flexpost writes.
@Suite("observability and secrets in output")
struct ObservabilityTests {
    static func past(_ name: String, _ extra: [(String, Any?)] = []) -> Data {
        let confirmed = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        return EventEditing.data(name, [("data.confirmedAt", confirmed)] + extra)
    }

    static func metric(_ text: String, _ name: String, _ labels: String) -> Double? {
        let prefix = labels.isEmpty ? "\(name) " : "\(name){\(labels)} "
        return text.split(separator: "\n").first { $0.hasPrefix(prefix) }.flatMap { Double($0.dropFirst(prefix.count)) }
    }

    @Test("after 3 accepted events, 1 rejected, 2 sent and 1 dead the scraped metrics have exactly those values")
    func metrics() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("metrics")
        let serve = try await ServeProcess(environment: TestEnvironment.baseEnvironment(smtpPort: server.port), directory: dir)
        #expect(try await serve.post(Self.past("order-second-base-package.json",
            [("data.portal.administrators[1].email", "rcpt550@mueller-logistik.example")])).status == 202)
        #expect(try await serve.post(Self.past("order-second-site.json")).status == 202)
        #expect(try await serve.post(Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture("portal-account-activated.json")))).status == 202)
        #expect(try await serve.post(Self.past("order-second-site.json", [("data.orderId", nil)])).status == 400)
        _ = try await server.waitForMessages(2)
        // The three notices' results are recorded one by one (the dead one may
        // be recorded before the second sent one), and the queue gauges are read
        // at scrape time before the counters are written out: scrape until every
        // result shows on both sides, then check the whole page.
        var text = ""
        for _ in 0..<100 {
            text = try await HTTPClient.send("GET", serve.base + "/metrics").body
            if Self.metric(text, "flexpost_deliveries_total", "kind=\"admin-notice\",result=\"dead\"") == 1,
               Self.metric(text, "flexpost_deliveries_total", "kind=\"admin-notice\",result=\"sent\"") == 2,
               Self.metric(text, "flexpost_queue_deliveries", "state=\"sent\"") == 2,
               Self.metric(text, "flexpost_queue_deliveries", "state=\"dead\"") == 1 { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        #expect(Self.metric(text, "flexpost_events_received_total", "type=\"order.confirmed\",result=\"accepted\"") == 2)
        #expect(Self.metric(text, "flexpost_events_received_total", "type=\"portal.account.activated\",result=\"accepted\"") == 1)
        #expect(Self.metric(text, "flexpost_events_received_total", "type=\"order.confirmed\",result=\"rejected\"") == 1)
        #expect(Self.metric(text, "flexpost_deliveries_total", "kind=\"admin-notice\",result=\"sent\"") == 2)
        #expect(Self.metric(text, "flexpost_deliveries_total", "kind=\"admin-notice\",result=\"dead\"") == 1)
        #expect(Self.metric(text, "flexpost_queue_deliveries", "state=\"scheduled\"") == 2, "two access-data mails wait for tomorrow")
        #expect(Self.metric(text, "flexpost_queue_deliveries", "state=\"sent\"") == 2)
        #expect(Self.metric(text, "flexpost_queue_deliveries", "state=\"dead\"") == 1)
        #expect(Self.metric(text, "flexpost_smtp_attempt_duration_seconds_count", "kind=\"admin-notice\"") == 3)
        #expect(Self.metric(text, "flexpost_oldest_due_age_seconds", "") == 0)
        #expect(Self.metric(text, "flexpost_queue_store_up", "") == 1)
        #expect(Self.metric(text, "flexpost_delivery_pass_failures_total", "") == 0, "counted from zero; no pass failed")
        let health = try await HTTPClient.send("GET", serve.base + "/healthz")
        #expect(health.status == 200)
        _ = await serve.terminate()
    }

    @Test("a whole scenario in text and JSON log formats: JSON lines parse; no secret, key or token anywhere in the output", arguments: ["text", "json"])
    func secretsInOutput(format: String) async throws {
        let server = try await SMTPTestServer(.init(tls: true, requireTLS: true, auth: "flexpost:Smtp-Pass-4242"))
        let dir = try TestEnvironment.temporaryDirectory("audit-\(format)")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_SMTP_URL"] = "smtp://localhost:\(server.port)"
        env["FLEXPOST_SMTP_USER"] = "flexpost"
        env["FLEXPOST_SMTP_PASSWORD"] = "Smtp-Pass-4242"
        env["FLEXPOST_SMTP_CA_FILE"] = server.caFile
        env["FLEXPOST_SUPPORT_TOKEN"] = "Support-Token-4242"
        env["FLEXPOST_LOG_FORMAT"] = format
        var outputs: [ProcessResult] = []
        func run(_ arguments: [String], stdin: Data? = nil) async throws {
            outputs.append(try await flexpost(arguments, environment: env, directory: dir, stdin: stdin))
        }
        let failing = EventEditing.data("order-second-site.json", [
            ("data.orderId", "ORD-AUDIT-1"), ("data.customer.contact.email", "rcpt451once@example.com"),
        ])
        try await run(["enqueue", TestEnvironment.fixture("order-new-customer.json"), TestEnvironment.fixture("order-second-site.json"),
                       TestEnvironment.fixture("order-second-base-package.json"), TestEnvironment.fixture("order-cancelled.json"),
                       TestEnvironment.fixture("order-services-only.json")])
        // An OTP for an active account: discarded at intake, so it must appear nowhere at all.
        try await run(["enqueue", "-"], stdin: EventEditing.data("order-second-site.json", [
            ("data.orderId", "ORD-AUDIT-OTP"), ("data.portal.oneTimePassword", "Discarded-Otp-77")]))
        try await run(["enqueue", "-"], stdin: failing)
        try await run(["enqueue", "-"], stdin: EventEditing.data("order-second-site.json", [("data.items[0].access.password", "Conflict-Pw-1")]))
        try await run(["enqueue", "-"], stdin: EventEditing.data("order-second-site.json", [("data.customer.contact.name", "x\r\ny")]))
        try await run(["drain", "--now", "2026-12-01T08:00:00+01:00"])
        try await run(["drain", "--now", "2026-12-01T10:00:00+01:00"])
        try await run(["enqueue", TestEnvironment.fixture("portal-account-activated.json")])
        try await run(["resend", "ORD-2026-004800", "--kind", "access-data", "--reason", "lost", "--actor", "agent"])
        try await run(["drain", "--now", "2026-12-01T10:00:00+01:00"])
        try await run(["status", "ORD-2026-004800", "--json"])
        try await run(["list", "--json"])
        try await run(["purge", "--now", "2027-02-01T00:00:00Z"])
        try await run(["resend", "ORD-2026-004800", "--kind", "access-data", "--reason", "lost", "--actor", "agent"])
        let serve = try await ServeProcess(environment: env, directory: dir)
        var answers: [String] = []
        answers.append(try await serve.post(Self.past("order-second-base-package.json")).body)
        answers.append(try await HTTPClient.send("GET", serve.base + "/v1/orders/ORD-2026-004712",
                                                 headers: ["authorization": "Bearer Support-Token-4242"]).body)
        answers.append(try await HTTPClient.send("GET", serve.base + "/metrics").body)
        _ = try await server.waitForMessages(5)
        outputs.append(await serve.terminate())
        #expect(try server.messages().count >= 5)

        // Everything flexpost wrote: output, logs, HTTP answers, and its database files.
        let everything = outputs.map { $0.stdout + $0.stderr }.joined() + answers.joined() + StoreSnapshot.bytes(dir)
        #expect(everything.contains("delivery sent"), "the logs were captured")
        // The discarded OTP is not even in the intended mails.
        #expect(!(try server.messages()).contains { String(decoding: $0.raw, as: UTF8.self).contains("Discarded-Otp-77") })
        let secrets = ["Discarded-Otp-77", "s7Qp-Lx2r-9vTm", "Zr5m-Pq8d-Yc1v", "K9vR-7tXq-M2wL", "Hq4t-Wz8n-3kPe", "Conflict-Pw-1", "Smtp-Pass-4242",
                       "Support-Token-4242", String(TestEnvironment.encryptionKey.dropFirst(5)),
                       String(TestEnvironment.webhookSecret.dropFirst(6)),
                       Data("\u{0}flexpost\u{0}Smtp-Pass-4242".utf8).base64EncodedString()]
        for secret in secrets {
            #expect(!everything.contains(secret), "a secret reached the output")
        }
        if format == "json" {
            // Command errors ("flexpost: ...") are plain text by the contract; every log line is JSON.
            let logLines = outputs.flatMap { $0.stderr.split(separator: "\n") }.filter { !$0.hasPrefix("flexpost: ") }
            #expect(!logLines.isEmpty)
            for line in logLines {
                let object = try? JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any]
                #expect(object?["message"] != nil && object?["level"] != nil, "not a JSON log line: \(line)")
            }
        }
    }
}
