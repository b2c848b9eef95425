import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §6 end to end with a real Postfix as the relay that bounces: the
/// mail goes through Postfix to a next hop that refuses the mistyped
/// address, Postfix's own DSN comes back to the VERP address and reaches
/// `flexpost bounce` through Postfix's pipe(8) transport (no hand-written DSN).
@Suite("a real bounce through Postfix")
struct PostfixBounceTests {
    static let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/postfix_test_relay.sh").path

    static func relay(_ arguments: [String]) async throws {
        let result = try await ChildProcess(executable: "/bin/bash", arguments: [script] + arguments,
                                            environment: ProcessInfo.processInfo.environment,
                                            directory: FileManager.default.temporaryDirectory).wait()
        guard result.status == 0 else { throw TestFailure("postfix_test_relay.sh \(arguments[0]): \(result.stdout)\(result.stderr)") }
    }

    @Test("a mistyped contact address: sent to the relay, Postfix's DSN back, status bounced with 5.1.1 and the diagnostic, listed in the console, delivery.bounced at the order system; corrected by customer.contact.changed, a resend reaches the new address")
    func mistypedAddress() async throws {
        let dir = try TestEnvironment.temporaryDirectory("postfix-bounce")
        // The next hop: refuses erika.rcpt550@… with 550 5.1.1, takes the rest.
        let nextHop = try await SMTPTestServer()
        let database = try await TestStores.newPostgresDatabase()
        let eventsPort = TestEnvironment.freePort(), eventsLog = dir.appendingPathComponent("events.jsonl")
        // The pipe runs `flexpost bounce -` as nobody: the queue on PostgreSQL, the key in its environment,
        // and the events URL, so that the bounce it records writes its delivery event.
        let pipeEnv = dir.appendingPathComponent("pipe.env")
        try """
        FLEXPOST_DATABASE_URL='\(database)'
        FLEXPOST_ENCRYPTION_KEY='\(TestEnvironment.encryptionKey)'
        FLEXPOST_BOUNCE_ADDRESS=bounces@companyflex.example
        FLEXPOST_TEMPLATES='\(TestEnvironment.templates)'
        FLEXPOST_EVENTS_URL='http://127.0.0.1:\(eventsPort)/flexpost-events'
        FLEXPOST_EVENTS_SECRET='\(DeliveryEventsTests.secret)'

        """.write(to: pipeEnv, atomically: true, encoding: .utf8)
        let postfix = "/tmp/flexpost-postfix-\(UUID().uuidString.prefix(8))", relayPort = TestEnvironment.freePort()
        try await Self.relay(["start", postfix, String(relayPort), String(nextHop.port), TestEnvironment.binary, pipeEnv.path])
        // Postfix runs as root's daemon: stopped whatever happens below.
        do {
            try await Self.story(postfix: postfix, relayPort: relayPort, nextHop: nextHop, database: database,
                                 eventsPort: eventsPort, eventsLog: eventsLog, dir: dir)
        } catch {
            try? await Self.relay(["stop", postfix])
            nextHop.stop()
            throw error
        }
        try await Self.relay(["stop", postfix])
        nextHop.stop()
    }

    static func story(postfix: String, relayPort: Int, nextHop: SMTPTestServer, database: String, eventsPort: Int, eventsLog: URL,
                      dir: URL) async throws {
        let receiver = try await DeliveryEventsTests.receiver(port: eventsPort, log: eventsLog, failFirst: false, directory: dir)

        var env = DeliveryEventsTests.environment(port: eventsPort, directory: dir, smtpPort: relayPort)
        env["FLEXPOST_DATABASE_URL"] = database
        env["FLEXPOST_BOUNCE_ADDRESS"] = "bounces@companyflex.example"
        env["FLEXPOST_SUPPORT_TOKEN"] = "postfix-token"
        let mistyped = EventEditing.data("order-second-site.json", [("data.customer.contact.email", "erika.rcpt550@mueller-logistik.example")])
        let serve = try await ServeProcess(environment: env, directory: dir)
        #expect(try await serve.post(mistyped).status == 202)

        // Postfix took it (250), the next hop refused it, Postfix's DSN came back through the pipe.
        let status = { try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir).stdout }
        do {
            try await waitUntil("the access data bounced", seconds: 90) { try await status().contains("\taccess-data\tbounced\t") }
        } catch {
            let log = (try? String(contentsOfFile: postfix + "/maillog", encoding: .utf8)) ?? ""
            Issue.record("status: \(try await status())\nPostfix: \(log.suffix(3000))")
            throw error
        }
        let report = try await status()
        #expect(report.contains("5.1.1") && report.contains("no such user"), "the status code and the diagnostic: \(report)")
        #expect(report.contains("relay.flexpost.test"), "Postfix reported it: \(report)")

        // The console's first page lists it; the order system was told.
        let login = try await ConsoleLogin.signIn(serve.base, token: "postfix-token")
        let home = try await HTTPClient.send("GET", serve.base + "/support/", headers: login.cookie).body
        #expect(home.contains(#"id="bounced""#) && home.contains("ORD-2026-004711") && home.contains("5.1.1"), "the console lists it")
        try await waitUntil("delivery.bounced taken", seconds: 30) {
            DeliveryEventsTests.taken(eventsLog).contains { ($0["event"] as? [String: Any])?["type"] as? String == "delivery.bounced" }
        }
        let bounced = DeliveryEventsTests.taken(eventsLog).compactMap { $0["event"] as? [String: Any] }
            .first { $0["type"] as? String == "delivery.bounced" }?["data"] as? [String: Any]
        #expect(bounced?["status"] as? String == "5.1.1" && bounced?["recipient"] as? String == "erika.rcpt550@mueller-logistik.example")

        // The order system corrects the address; support resends; the corrected address gets it.
        let corrected = Data(#"{"type":"customer.contact.changed","timestamp":"2026-12-01T09:00:00Z","data":{"customerNumber":"5500123456","contact":{"name":"Erika Müller","email":"erika.mueller@mueller-logistik.example"},"changedAt":"2026-12-01T09:00:00Z"}}"#.utf8)
        #expect(try await serve.post(corrected).status == 202)
        let resend = try await flexpost(["resend", "ORD-2026-004711", "--kind", "access-data", "--reason", "address corrected after the bounce",
                                         "--actor", "support"], environment: env, directory: dir)
        #expect(resend.status == 0, "\(resend.stdout)\(resend.stderr)")
        try await waitUntil("the corrected address reached", seconds: 60) {
            try nextHop.messages().contains { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] }
        }
        _ = await serve.terminate()
        receiver.signal(SIGTERM)
    }
}
