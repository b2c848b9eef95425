@testable import FlexpostServer
import Foundation
import Testing
@testable import FlexpostTestSupport

/// A store that fails or does not answer: every request is answered in
/// bounded time with 503 and Retry-After (never a hung connection), nothing
/// is acknowledged that is not stored, and the sender's retry is accepted or
/// a duplicate once the store is back.
@Suite("store outage: answered, not hung")
struct StoreOutageTests {
    static let auth = ["authorization": "Bearer outage-token"]
    /// The route deadline (10 s) and the watchdog's tick, with room for a slow machine.
    static let patience = 13.0

    /// A new customer's order confirmed now: its access data is due tomorrow, so nothing is sent.
    static func order(_ orderId: String, customer: String) -> Data {
        EventEditing.data("order-new-customer.json", [
            ("data.orderId", orderId), ("data.customer.customerNumber", customer),
            ("data.confirmedAt", ISO8601DateFormatter().string(from: Date())),
        ])
    }

    /// What a call returned, and how long it took.
    struct Timed<Value: Sendable>: Sendable {
        var value: Value
        var seconds: Double
    }

    static func timed<Value: Sendable>(_ call: @Sendable () async throws -> Value) async throws -> Timed<Value> {
        let start = ContinuousClock.now
        let value = try await call()
        let elapsed = ContinuousClock.now - start
        return Timed(value: value, seconds: Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18)
    }

    static func timedRun(_ arguments: [String], env: [String: String], dir: URL, stdin: Data? = nil) async throws
        -> Timed<ProcessResult>
    {
        try await timed { try await flexpost(arguments, environment: env, directory: dir, stdin: stdin) }
    }

    /// Posts the event until the store answers again; the first answer that is not 503.
    static func retry(_ serve: ServeProcess, _ body: Data, seconds: Double = 60) async throws -> HTTPClient.Answer {
        let deadline = Date().addingTimeInterval(seconds)
        while true {
            let answer = try await serve.post(body, timeout: 30)
            if answer.status != 503 || Date() > deadline { return answer }
            try await Task.sleep(for: .milliseconds(500))
        }
    }

    static func deliveries(_ orderId: String, env: [String: String], dir: URL) async throws -> [[String: Any]] {
        let status = try await flexpost(["status", orderId, "--json"], environment: env, directory: dir)
        let report = try JSONSerialization.jsonObject(with: Data(status.stdout.utf8)) as? [String: Any]
        return report?["deliveries"] as? [[String: Any]] ?? []
    }

    @Test("PostgreSQL stopped: intake, order look-up, resend, holds, cancel and the console answer 503 with Retry-After at the deadline, health sooner, metrics 200 saying the store is down and counting the refused intake, commands exit 1 within it; started again, the retried event is stored once")
    func postgresStopped() async throws {
        let postgres = try await OwnPostgresServer.start("outage")
        defer { Task { _ = try? await postgres.control("stop") } }
        let dir = try TestEnvironment.temporaryDirectory("outage-pg")
        var env = TestEnvironment.baseEnvironment(smtpPort: TestEnvironment.freePort())
        env["FLEXPOST_DATABASE_URL"] = postgres.url
        env["FLEXPOST_SUPPORT_TOKEN"] = "outage-token"
        let serve = try await ServeProcess(environment: env, directory: dir)
        #expect(try await serve.post(Self.order("ORD-OUT-1", customer: "7900000001")).status == 202)
        let signedIn = try await ConsoleLogin.signIn(serve.base, token: "outage-token").cookie
        #expect(try await postgres.control("stop").status == 0)

        let during = Self.order("ORD-OUT-2", customer: "7900000002")
        let resend = Data(#"{"kind":"access-data","reason":"lost","actor":"agent"}"#.utf8)
        let base = serve.base
        async let intake = Self.timed { try await serve.post(during, timeout: 30) }
        async let lookUp = Self.timed { try await HTTPClient.send("GET", base + "/v1/orders/ORD-OUT-1", headers: Self.auth, timeout: 30) }
        async let resent = Self.timed {
            try await HTTPClient.send("POST", base + "/v1/orders/ORD-OUT-1/resend", headers: Self.auth, body: resend, timeout: 30)
        }
        let action = Data(#"{"reason":"incident","actor":"ops"}"#.utf8)
        async let holds = Self.timed { try await HTTPClient.send("GET", base + "/v1/holds", headers: Self.auth, timeout: 30) }
        async let held = Self.timed {
            try await HTTPClient.send("POST", base + "/v1/holds", headers: Self.auth, body: action, timeout: 30)
        }
        async let released = Self.timed {
            try await HTTPClient.send("POST", base + "/v1/holds/release", headers: Self.auth, body: action, timeout: 30)
        }
        async let cancelled = Self.timed {
            try await HTTPClient.send("POST", base + "/v1/deliveries/1/cancel", headers: Self.auth, body: action, timeout: 30)
        }
        async let metrics = Self.timed { try await HTTPClient.send("GET", base + "/metrics", timeout: 30) }
        async let health = Self.timed { try await HTTPClient.send("GET", base + "/healthz", timeout: 30) }
        // Commands started meanwhile say so and exit 1, instead of retrying for a minute.
        let file = dir.appendingPathComponent("during.json")
        try during.write(to: file)
        async let enqueue = Self.timedRun(["enqueue", file.path], env: env, dir: dir)
        async let status = Self.timedRun(["status", "ORD-OUT-1"], env: env, dir: dir)
        async let console = Self.timed {
            try await HTTPClient.send("GET", base + "/support/orders?id=ORD-OUT-1", headers: signedIn, timeout: 30)
        }
        let answers = try await [("POST /v1/events", intake), ("GET /v1/orders/{orderId}", lookUp),
                                 ("POST /v1/orders/{orderId}/resend", resent), ("GET /v1/holds", holds),
                                 ("POST /v1/holds", held), ("POST /v1/holds/release", released),
                                 ("POST /v1/deliveries/{deliveryId}/cancel", cancelled)]
        let documented = try OpenAPIAgreementTests.documented()
        for (operation, timed) in answers {
            #expect(timed.value.status == 503, "\(operation): \(timed.value.status) \(timed.value.body)")
            #expect(timed.value.headers["retry-after"] == "10", "\(operation)")
            #expect(timed.value.body.contains("the queue store is unavailable"), "\(operation): \(timed.value.body)")
            #expect(timed.seconds < Self.patience, "\(operation) answered after \(timed.seconds) s")
            #expect(documented[operation]?.contains(503) == true, "\(operation) documents 503")
        }
        let page = try await console
        #expect(page.value.status == 503 && page.value.headers["retry-after"] == "10")
        #expect(page.value.body.contains("The queue store is unavailable"), "the console says so on its page")
        #expect(page.seconds < Self.patience)
        for (command, run) in try await [("enqueue", enqueue), ("status", status)] {
            #expect(run.value.status == 1, "\(command): \(run.value.status) \(run.value.stderr)")
            #expect(run.value.stderr.contains("flexpost: cannot reach the PostgreSQL queue"), "\(command): \(run.value.stderr)")
            #expect(run.seconds < Self.patience, "\(command) gave up after \(run.seconds) s")
        }
        let healthAnswer = try await health
        #expect(healthAnswer.value.status == 503)
        #expect(healthAnswer.seconds < 6, "health answered after \(healthAnswer.seconds) s")
        // A scrape is answered within a scraper's patience: the process's counters,
        // the store marked down, and no stale queue figures.
        let scrape = try await metrics
        #expect(scrape.value.status == 200, "\(scrape.value.status)")
        #expect(scrape.seconds < 6, "metrics answered after \(scrape.seconds) s")
        #expect(ObservabilityTests.metric(scrape.value.body, "flexpost_queue_store_up", "") == 0)
        #expect(!scrape.value.body.contains("flexpost_queue_deliveries{") && !scrape.value.body.contains("flexpost_oldest_due_age_seconds "),
                "\(scrape.value.body)")
        let afterRefusal = try await HTTPClient.send("GET", base + "/metrics", timeout: 30).body
        #expect(ObservabilityTests.metric(afterRefusal, "flexpost_events_received_total",
                                          "type=\"order.confirmed\",result=\"unavailable\"") == 1, "\(afterRefusal)")

        #expect(try await postgres.control("resume").status == 0)
        let again = try await Self.retry(serve, during)
        #expect(again.status == 202 || again.status == 200, "the retry: \(again.status) \(again.body)")
        #expect(try await HTTPClient.send("GET", base + "/healthz").status == 200)
        let back = try await HTTPClient.send("GET", base + "/metrics").body
        #expect(ObservabilityTests.metric(back, "flexpost_queue_store_up", "") == 1)
        #expect(ObservabilityTests.metric(back, "flexpost_queue_deliveries", "state=\"scheduled\"") == 2, "\(back)")
        let finished = await serve.terminate()
        #expect(finished.stderr.contains("queue store unavailable"), "the outage is logged")
        #expect(!finished.stderr.contains("s7Qp-Lx2r-9vTm") && !finished.stderr.contains("K9vR-7tXq-M2wL"))
        let stored = try await Self.deliveries("ORD-OUT-2", env: env, dir: dir)
        #expect(stored.count == 1, "stored once: \(stored)")
    }

    @Test("PostgreSQL stopped, then serve stopped with SIGTERM: it exits 0 within seconds (the delivery pass gives up its store call, claims are left to their lease), not after the shutdown limits with a crash report; the notice posted before goes out once the store is back")
    func stopDuringOutage() async throws {
        let postgres = try await OwnPostgresServer.start("outage-stop")
        defer { Task { _ = try? await postgres.control("stop") } }
        let server = try await SMTPTestServer()
        defer { server.stop() }
        let dir = try TestEnvironment.temporaryDirectory("outage-stop")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        env["FLEXPOST_DATABASE_URL"] = postgres.url
        let serve = try await ServeProcess(environment: env, directory: dir)
        #expect(try await serve.post(Self.siteOrder("ORD-STOP-1")).status == 202)
        _ = try await server.waitForMessages(1)
        #expect(try await postgres.control("stop").status == 0)
        // The loop is now waiting on the store: its poll, or a claim.
        try await Task.sleep(for: .seconds(1))
        let stopped = try await Self.timed { await serve.terminate() }
        #expect(stopped.value.status == 0, "exit \(stopped.value.status)")
        #expect(stopped.seconds < 10, "stopped after \(stopped.seconds) s")
        #expect(!stopped.value.stderr.contains("Fatal error") && !stopped.value.stderr.contains("crashed"))
        #expect(stopped.value.stderr.contains("delivery loop stopped"), "\(stopped.value.stderr.suffix(2000))")

        // Back: nothing was lost or left half-done by the stop.
        #expect(try await postgres.control("resume").status == 0)
        let again = try await ServeProcess(environment: env, directory: dir)
        #expect(try await again.post(Self.siteOrder("ORD-STOP-2")).status == 202)
        let received = try await server.waitForMessages(2)
        _ = await again.terminate()
        #expect(received.count == 2)
    }

    @Test("SQLite write lock held by another process: intake and resend answer 503 with Retry-After at the deadline, enqueue stops naming the event, reads still answer; released, the retry and the batch are stored once")
    func sqliteLocked() async throws {
        let dir = try TestEnvironment.temporaryDirectory("outage-sqlite")
        var env = TestEnvironment.baseEnvironment(smtpPort: TestEnvironment.freePort())
        env["FLEXPOST_SUPPORT_TOKEN"] = "outage-token"
        let serve = try await ServeProcess(environment: env, directory: dir)
        #expect(try await serve.post(Self.order("ORD-LOCK-1", customer: "7900000011")).status == 202)

        // Another process (a careless maintenance script) holds SQLite's write
        // lock longer than flexpost's deadline.
        let marker = dir.appendingPathComponent("locked")
        let holder = try ChildProcess(executable: "/usr/bin/python3", arguments: ["-c", """
            import sqlite3, sys, time
            c = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
            c.execute("BEGIN IMMEDIATE")
            open(sys.argv[2], "w").close()
            time.sleep(float(sys.argv[3]))
            c.execute("ROLLBACK")
            """, dir.appendingPathComponent("queue/flexpost.sqlite").path, marker.path, "14"],
            environment: ProcessInfo.processInfo.environment, directory: dir)
        while !FileManager.default.fileExists(atPath: marker.path) { try await Task.sleep(for: .milliseconds(20)) }

        let during = Self.order("ORD-LOCK-2", customer: "7900000012")
        let resend = Data(#"{"kind":"access-data","reason":"lost","actor":"agent"}"#.utf8)
        let base = serve.base
        async let intake = Self.timed { try await serve.post(during, timeout: 30) }
        async let resent = Self.timed {
            try await HTTPClient.send("POST", base + "/v1/orders/ORD-LOCK-1/resend", headers: Self.auth, body: resend, timeout: 30)
        }
        let batch = Self.order("ORD-LOCK-3", customer: "7900000013") + Data("\n".utf8)
            + Self.order("ORD-LOCK-4", customer: "7900000014") + Data("\n".utf8)
        async let enqueue = Self.timedRun(["enqueue", "-"], env: env, dir: dir, stdin: batch)
        let lookUp = try await HTTPClient.send("GET", base + "/v1/orders/ORD-LOCK-1", headers: Self.auth)
        #expect(lookUp.status == 200, "a read does not wait for the write lock (WAL)")
        for (operation, timed) in try await [("intake", intake), ("resend", resent)] {
            #expect(timed.value.status == 503, "\(operation): \(timed.value.status) \(timed.value.body)")
            #expect(timed.value.headers["retry-after"] == "10", "\(operation)")
            #expect(timed.seconds >= 9 && timed.seconds < Self.patience, "\(operation) answered after \(timed.seconds) s")
        }
        // A batch taken by `enqueue` meanwhile stops at the event that timed out and says how far it got.
        let stopped = try await enqueue
        #expect(stopped.value.status == 1)
        #expect(stopped.value.stdout.isEmpty, "nothing was answered: \(stopped.value.stdout)")
        #expect(stopped.value.stderr.contains("flexpost: stopped at event 1 of 2: the queue store did not answer an intake in time"),
                "\(stopped.value.stderr)")
        #expect(stopped.seconds < Self.patience)
        #expect(await holder.wait().status == 0)

        // The abandoned intake may have committed once the lock was released:
        // the retry is then a duplicate. Either way the order is there once.
        let again = try await Self.retry(serve, during)
        #expect(again.status == 202 || again.status == 200, "the retry: \(again.status) \(again.body)")
        _ = await serve.terminate()
        #expect(try await Self.deliveries("ORD-LOCK-2", env: env, dir: dir).count == 1)
        // Taken again once the lock is gone, the batch goes in whole.
        let again2 = try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: batch)
        #expect(again2.status == 0, "\(again2.stderr)")
        #expect(again2.stdout == "accepted order.confirmed ORD-LOCK-3\naccepted order.confirmed ORD-LOCK-4\n")
    }

    /// An existing customer's order confirmed now: its administrator notice is due at once.
    static func siteOrder(_ orderId: String) -> Data {
        EventEditing.data("order-second-site.json", [
            ("data.orderId", orderId), ("data.confirmedAt", ISO8601DateFormatter().string(from: Date())),
        ])
    }

    @Test("SQLite's disk full (writes past a file size limit fail, as on a full disk): intake answers 503 at once and stores nothing of a refused event, the process stays up; with room again, the refused events are accepted and every notice arrives exactly once")
    func sqliteDiskFull() async throws {
        let server = try await SMTPTestServer()
        defer { server.stop() }
        let dir = try TestEnvironment.temporaryDirectory("disk-full")
        let env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        // `serve` may not write past 600 KB in any file: the WAL stops growing
        // there, and the write fails with EFBIG (SIGXFSZ ignored), as a write
        // to a full disk fails with ENOSPC.
        let serve = try await ServeProcess(environment: env, directory: dir, launcher: [
            "/usr/bin/prlimit", "--fsize=\(600 * 1024):unlimited", "/bin/sh", "-c", "trap '' XFSZ; exec \"$@\"", "sh",
        ])
        var accepted: [String] = []
        var refused: [String] = []
        for n in 1...200 where refused.count < 3 {
            let orderId = "ORD-FULL-\(n)"
            let answer = try await serve.post(Self.siteOrder(orderId), timeout: 30)
            // Near the limit a smaller commit may still fit after a larger one failed.
            if answer.status == 202 {
                accepted.append(orderId)
            } else if answer.status == 503 {
                #expect(answer.headers["retry-after"] == "10")
                #expect(answer.body.contains("the queue store is unavailable"), "\(answer.body)")
                refused.append(orderId)
            } else {
                Issue.record("\(orderId): \(answer.status) \(answer.body) after \(refused.count) refused")
            }
        }
        #expect(accepted.count >= 2 && refused.count == 3, "accepted \(accepted.count), refused \(refused.count)")
        // Nothing of a refused event is stored; an accepted one is there whole.
        for orderId in refused {
            let status = try await flexpost(["status", orderId], environment: env, directory: dir)
            #expect(status.status == 1 && status.stderr.contains("unknown order"), "\(orderId): \(status.stderr)")
        }
        for orderId in accepted {
            #expect(try await Self.deliveries(orderId, env: env, dir: dir).count == 2, "\(orderId)")
        }

        // Room again.
        let raise = try ChildProcess(executable: "/usr/bin/prlimit",
                                     arguments: ["--pid", "\(serve.child.process.processIdentifier)", "--fsize=unlimited"],
                                     environment: ProcessInfo.processInfo.environment, directory: dir)
        #expect(await raise.wait().status == 0)
        for orderId in refused {
            let again = try await serve.post(Self.siteOrder(orderId), timeout: 30)
            #expect(again.status == 202, "\(orderId) was not stored before: \(again.status) \(again.body)")
        }
        let orders = accepted + refused
        let received = try await server.waitForMessages(orders.count, seconds: 60)
        // A result whose recording failed during the outage is recorded on the worker's next try.
        let expected = ["access-data=scheduled", "admin-notice=sent"]
        var states: [String: [String]] = [:]
        let deadline = Date().addingTimeInterval(30)
        repeat {
            if !states.isEmpty { try await Task.sleep(for: .milliseconds(200)) }
            for orderId in orders {
                states[orderId] = try await Self.deliveries(orderId, env: env, dir: dir)
                    .map { "\($0["kind"] ?? "")=\($0["state"] ?? "")" }.sorted()
            }
        } while states.values.contains(where: { $0 != expected }) && Date() < deadline
        for orderId in orders { #expect(states[orderId] == expected, "\(orderId): \(states[orderId] ?? [])") }
        if states.values.contains(where: { $0 != expected }) {
            print(serve.child.result().stderr.split(separator: "\n").filter { !$0.contains(" info ") }.joined(separator: "\n"))
        }
        let scrape = try await HTTPClient.send("GET", serve.base + "/metrics").body
        #expect(ObservabilityTests.metric(scrape, "flexpost_events_received_total", "type=\"order.confirmed\",result=\"unavailable\"")
                    == Double(refused.count), "every 503 counted")
        let finished = await serve.terminate()
        #expect(try server.messages().count == orders.count, "no notice sent twice")
        #expect(Set(received.map(\.messageId)).count == orders.count)
        #expect(finished.stderr.contains("queue store unavailable"), "the refusals are logged")
    }
}
