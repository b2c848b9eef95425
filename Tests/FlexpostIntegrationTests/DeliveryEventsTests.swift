import FlexpostCore
import FlexpostStore
import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §6 delivery events out, end to end: `serve` posts them to a receiver
/// that checks the Standard Webhooks signature with Python's own hmac
/// (Tests/Support/webhook_receiver.py).
@Suite("delivery events to the order system")
struct DeliveryEventsTests {
    static let secret = "whsec_" + Data("order-system-events-secret-4711".utf8).base64EncodedString()

    /// The receiver on `port`, writing what it got to `log`.
    static func receiver(port: Int, log: URL, failFirst: Bool, directory: URL) async throws -> ChildProcess {
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/webhook_receiver.py").path
        let child = try ChildProcess(executable: "/usr/bin/python3",
                                     arguments: [script, String(port), secret, log.path] + (failFirst ? ["--fail-first"] : []),
                                     environment: ProcessInfo.processInfo.environment, directory: directory)
        try await waitUntil("the receiver listens") { child.result().stdout.contains("listening") }
        return child
    }

    /// Every request the receiver logged, in order.
    static func received(_ log: URL) -> [[String: Any]] {
        ((try? String(contentsOf: log, encoding: .utf8)) ?? "").split(separator: "\n").compactMap {
            try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any]
        }
    }

    static func taken(_ log: URL) -> [[String: Any]] { received(log).filter { $0["status"] as? Int == 204 } }

    static func environment(port: Int, directory: URL, smtpPort: Int? = nil) -> [String: String] {
        var env = TestEnvironment.baseEnvironment(smtpPort: smtpPort)
        env["FLEXPOST_EVENTS_URL"] = "http://127.0.0.1:\(port)/flexpost-events"
        env["FLEXPOST_EVENTS_SECRET"] = secret
        return env
    }

    @Test("sent, dead, bounced and cancelled reach the order system signed, with the facts and no secret; each is tried again with the same webhook-id after a 500")
    func everyEnd() async throws {
        let dir = try TestEnvironment.temporaryDirectory("events")
        let port = TestEnvironment.freePort(), log = dir.appendingPathComponent("received.jsonl")
        let receiver = try await Self.receiver(port: port, log: log, failFirst: true, directory: dir)
        let smtp = try await SMTPTestServer()
        var env = Self.environment(port: port, directory: dir, smtpPort: smtp.port)
        env["FLEXPOST_BOUNCE_ADDRESS"] = "bounces@companyflex.example"
        // The contact's server refuses the access data for good (550): it ends dead.
        let refused = EventEditing.data("order-second-site.json", [("data.customer.contact.email", "erika.rcpt550@mueller-logistik.example")])
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: refused).status == 0)
        // Confirmed now: the access data waits for tomorrow and is cancelled by an operator.
        let scheduled = EventEditing.data("order-second-base-package.json", [("data.confirmedAt", ISO8601DateFormatter().string(from: Date()))])
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: scheduled).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)

        // The administrator notices are sent; one of them bounces afterwards (VERP).
        let notices = try await smtp.waitForMessages(3)
        let verp = try #require(notices[0].mailFrom.firstMatch(of: /^bounces\+(\d+)-([a-z2-7]{16})@/))
        let dsn = try BounceTests.sample("postfix-user-unknown.eml", token: "\(verp.1)-\(verp.2)", messageId: "<x@elsewhere.example>")
        #expect(try await flexpost(["bounce", "-"], environment: env, directory: dir, stdin: dsn).status == 0)
        let waiting = try await flexpost(["list", "--state", "scheduled", "--json"], environment: env, directory: dir)
        let views = try JSONSerialization.jsonObject(with: Data(waiting.stdout.utf8)) as? [[String: Any]] ?? []
        let access = try #require(views.first { $0["orderId"] as? String == "ORD-2026-004712" }?["id"] as? Int)
        #expect(try await flexpost(["cancel", String(access), "--reason", "site cancelled by phone", "--actor", "ops"],
                                   environment: env, directory: dir).status == 0)

        // sent: 3 notices; dead: 1; bounced: 1; cancelled: 1.
        try await waitUntil("six events taken", seconds: 60) { Self.taken(log).count >= 6 }
        let taken = Self.taken(log)
        let types = taken.compactMap { ($0["event"] as? [String: Any])?["type"] as? String }.sorted()
        #expect(types == ["delivery.bounced", "delivery.cancelled", "delivery.dead", "delivery.sent", "delivery.sent", "delivery.sent"],
                "\(types)")
        #expect(taken.allSatisfy { $0["verified"] as? Bool == true && $0["contentType"] as? String == "application/json" },
                "every signature checks out independently")
        // Each was refused once (500) and tried again with the same webhook-id.
        let all = Self.received(log)
        for event in taken {
            let id = try #require(event["id"] as? String)
            #expect(all.filter { $0["id"] as? String == id }.map { $0["status"] as? Int } == [500, 204], "\(id)")
        }
        func data(_ type: String) -> [[String: Any]] {
            taken.compactMap { $0["event"] as? [String: Any] }.filter { $0["type"] as? String == type }.compactMap { $0["data"] as? [String: Any] }
        }
        let dead = try #require(data("delivery.dead").first)
        #expect(dead["orderId"] as? String == "ORD-2026-004711" && dead["customerNumber"] as? String == "5500123456"
            && dead["kind"] as? String == "access-data" && dead["recipient"] as? String == "erika.rcpt550@mueller-logistik.example"
            && (dead["reply"] as? String)?.hasPrefix("550") == true && dead["deliveryId"] as? Int != nil && dead["at"] as? String != nil,
                "\(dead)")
        let bounced = try #require(data("delivery.bounced").first)
        #expect(bounced["status"] as? String == "5.1.1" && bounced["deliveryId"] as? Int == Int(verp.1), "\(bounced)")
        #expect(data("delivery.cancelled").first?["deliveryId"] as? Int == access)
        #expect(data("delivery.sent").allSatisfy { ($0["reply"] as? String)?.hasPrefix("250") == true && $0["kind"] as? String == "admin-notice" })
        let raw = try String(contentsOf: log, encoding: .utf8)
        #expect(!raw.contains("s7Qp-Lx2r-9vTm") && !raw.contains("ank001234567890"), "no access data in any event")

        try await waitUntil("nothing pending") {
            try await HTTPClient.send("GET", serve.base + "/metrics").body.contains(#"flexpost_delivery_events{state="pending"} 0"#)
        }
        _ = await serve.terminate()
        receiver.signal(SIGTERM)
        smtp.stop()
    }

    @Test("the order system down: events wait, counted pending in /metrics, and each arrives once when it is back (PostgreSQL)")
    func receiverDown() async throws {
        let dir = try TestEnvironment.temporaryDirectory("events-down")
        let port = TestEnvironment.freePort(), log = dir.appendingPathComponent("received.jsonl")
        var env = Self.environment(port: port, directory: dir)
        env["FLEXPOST_DATABASE_URL"] = try await TestStores.newPostgresDatabase()
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)
        try await waitUntil("two events pending", seconds: 30) {
            try await HTTPClient.send("GET", serve.base + "/metrics").body.contains(#"flexpost_delivery_events{state="pending"} 2"#)
        }
        // Both posts refused (nothing listens), and at least one tried again while it is down.
        try await waitUntil("three failed posts", seconds: 30) {
            serve.child.result().stderr.components(separatedBy: "delivery event not taken").count > 3
        }
        #expect(try await HTTPClient.send("GET", serve.base + "/metrics").body.contains(#"flexpost_delivery_events{state="pending"} 2"#))
        let receiver = try await Self.receiver(port: port, log: log, failFirst: false, directory: dir)
        try await waitUntil("both taken", seconds: 60) { Self.taken(log).count >= 2 }
        try await waitUntil("nothing pending") {
            try await HTTPClient.send("GET", serve.base + "/metrics").body.contains(#"flexpost_delivery_events{state="pending"} 0"#)
        }
        let stopped = await serve.terminate()
        receiver.signal(SIGTERM)
        let ids = Self.received(log).compactMap { $0["id"] as? String }
        #expect(ids.count == 2 && Set(ids).count == 2, "each once: \(ids)")
        #expect(Self.taken(log).allSatisfy { $0["verified"] as? Bool == true })
        #expect(stopped.stderr.contains("webhook.id=msg_delivery_"), "the failed posts are logged with their id")
    }

    @Test("cron's drain posts the events at the end of its run; with the order system away it still ends, and the next run posts them; a drain without the events' settings says events wait")
    func drainPosts() async throws {
        let dir = try TestEnvironment.temporaryDirectory("events-drain")
        let port = TestEnvironment.freePort(), log = dir.appendingPathComponent("received.jsonl")
        let env = Self.environment(port: port, directory: dir)
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        // Nobody listens: the drain delivers, tries the events once, and ends.
        let away = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(away.status == 0 && away.stdout == "drain: 2 sent, 0 retrying, 0 dead\n", "\(away.stdout)\(away.stderr)")
        #expect(away.stderr.contains("delivery event not taken"), "\(away.stderr)")
        #expect(!away.stderr.contains("is not set here"))
        // A process that ends deliveries without the events' settings is told that events wait.
        var unset = env
        unset["FLEXPOST_EVENTS_URL"] = nil
        unset["FLEXPOST_EVENTS_SECRET"] = nil
        let bare = try await flexpost(["drain"], environment: unset, directory: dir)
        #expect(bare.status == 0 && bare.stderr.contains(
            "2 delivery events wait in the queue, but FLEXPOST_EVENTS_URL is not set here"), "\(bare.stderr)")
        let receiver = try await Self.receiver(port: port, log: log, failFirst: false, directory: dir)
        // The next run (nothing to deliver) posts them once they are due again (5 s backoff).
        try await waitUntil("both events taken by a later drain", seconds: 60) {
            _ = try await flexpost(["drain"], environment: env, directory: dir)
            return Self.taken(log).count == 2
        }
        receiver.signal(SIGTERM)
        #expect(Self.taken(log).allSatisfy { $0["verified"] as? Bool == true })
        #expect(Self.received(log).count == 2, "each once, no failed post in between")
    }

    @Test("retry-events: events given up after the retry lifetime are listed, posted again on request with the same webhook-id, and only then")
    func givenUpPostedAgain() async throws {
        let dir = try TestEnvironment.temporaryDirectory("events-retry")
        let port = TestEnvironment.freePort(), log = dir.appendingPathComponent("received.jsonl")
        let database = dir.appendingPathComponent("queue.sqlite").path
        var env = Self.environment(port: port, directory: dir)
        env["FLEXPOST_DATABASE_URL"] = "sqlite:" + database
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        let away = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(away.status == 0 && away.stderr.contains("delivery event not taken"), "\(away.stdout)\(away.stderr)")
        // The order system stayed away for the whole retry lifetime: both given up.
        let store = try SQLiteQueueStore(path: database)
        let later = Date().addingTimeInterval(3_600)
        let pending = try await store.claimDeliveryEvents(at: later, leaseUntil: later.addingTimeInterval(60), limit: 10)
        try #require(pending.count == 2)
        for event in pending {
            try await store.deliveryEventFailed(webhookId: event.record.webhookId, nextAt: nil, error: "HTTP 503")
        }
        await store.close()
        let ids = Set(pending.map(\.record.webhookId))

        let dryRun = try await flexpost(["retry-events", "--dry-run"], environment: env, directory: dir)
        #expect(dryRun.status == 0, "\(dryRun.stderr)")
        let listed = dryRun.stdout.split(separator: "\n").filter { $0.hasPrefix("would post again ") }
        #expect(Set(listed.map { String($0.split(separator: " ")[3]) }) == ids, "\(dryRun.stdout)")
        #expect(listed.allSatisfy { $0.contains("order ORD-2026-004711") && $0.hasSuffix("2 failed posts, the last: HTTP 503") },
                "\(dryRun.stdout)")
        #expect(dryRun.stdout.hasSuffix("retry-events: 2 delivery events would be posted again\n"), "\(dryRun.stdout)")

        // Given up stays given up: the order system back, a drain posts nothing.
        let receiver = try await Self.receiver(port: port, log: log, failFirst: false, directory: dir)
        let idle = try await flexpost(["drain"], environment: env, directory: dir)
        #expect(idle.status == 0 && Self.received(log).isEmpty, "\(idle.stderr)")

        // Asked from a process without the events' settings: queued, and told who posts them.
        var unset = env
        unset["FLEXPOST_EVENTS_URL"] = nil
        unset["FLEXPOST_EVENTS_SECRET"] = nil
        let retry = try await flexpost(["retry-events"], environment: unset, directory: dir)
        #expect(retry.status == 0 && retry.stdout.components(separatedBy: "posting again msg_delivery_").count == 3, "\(retry.stdout)")
        #expect(retry.stdout.contains("retry-events: 2 delivery events to be posted again\n")
            && retry.stdout.contains("FLEXPOST_EVENTS_URL is not set here"), "\(retry.stdout)")
        try await waitUntil("both posted again by the next drain", seconds: 30) {
            _ = try await flexpost(["drain"], environment: env, directory: dir)
            return Self.taken(log).count == 2
        }
        receiver.signal(SIGTERM)
        #expect(Set(Self.taken(log).compactMap { $0["id"] as? String }) == ids, "the same webhook-ids")
        #expect(Self.taken(log).allSatisfy { $0["verified"] as? Bool == true })
        let none = try await flexpost(["retry-events"], environment: env, directory: dir)
        #expect(none.status == 0 && none.stdout == "retry-events: 0 delivery events to be posted again\n", "\(none.stdout)")
    }
}
