import FlexpostCore
@testable import FlexpostServer
import Foundation
import Testing
@testable import FlexpostTestSupport

/// `flexpost resend-dead`: after a relay refused everything, each killed
/// order's mail is resent once, by R7, and only once.
@Suite("resend of dead deliveries")
struct DeadLetterResendTests {
    static let since = "2026-12-01T06:00:00Z"
    static let until = "2026-12-01T09:00:00Z"

    @Test("a relay that refused everything: resend-dead resends each killed order's mail once, skips what was resent, refuses purged secrets")
    func afterAnIncident() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("resend-dead")
        let env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        func run(_ arguments: [String]) async throws -> ProcessResult {
            try await flexpost(arguments, environment: env, directory: dir)
        }
        // A fourth order, confirmed a day earlier: its mail dies a day earlier, and its
        // secrets are purged before the resend.
        let earlier = try String(contentsOfFile: TestEnvironment.fixture("order-second-site.json"), encoding: .utf8)
            .replacingOccurrences(of: "ORD-2026-004711", with: "ORD-2026-004699")
            .replacingOccurrences(of: "2026-11-30T15:12:00+01:00", with: "2026-11-29T15:12:00+01:00")
        let earlierFile = dir.appendingPathComponent("earlier.json")
        try earlier.write(to: earlierFile, atomically: true, encoding: .utf8)
        #expect(try await run(["enqueue", TestEnvironment.fixture("order-second-site.json"),
                               TestEnvironment.fixture("order-new-customer.json"),
                               TestEnvironment.fixture("order-second-base-package.json"), earlierFile.path]).status == 0)

        // The incident: every message refused with 554, so every delivery is dead at once.
        try server.refuseEverything(true)
        #expect(try await run(["drain", "--now", "2026-11-30T08:00:00+01:00"]).status == 1)
        let incident = try await run(["drain", "--now", "2026-12-01T08:00:00+01:00"])
        #expect(incident.status == 1)
        // Thirty days on, the earlier order's secrets are purged (R8); the others' are not yet.
        let purge = try await run(["purge", "--now", "2026-12-30T08:00:00Z"])
        #expect(purge.stdout.contains("secrets of 1 orders destroyed"), "\(purge.stdout)")
        let deadList = try await run(["list", "--state", "dead"]).stdout
        let deadCount = deadList.split(separator: "\n").count - 1
        #expect(deadCount >= 7, "\(deadList)")
        #expect(deadList.hasSuffix("\(deadCount) deliveries\n"))
        let deadJSON = try await run(["list", "--state", "dead", "--json"]).stdout
        let dead = try #require(try JSONSerialization.jsonObject(with: Data(deadJSON.utf8)) as? [[String: Any]])
        func bare(_ id: String) -> String { id.trimmingCharacters(in: CharacterSet(charactersIn: "<>")) }
        let deadMessageIDs = Set(dead.compactMap { ($0["messageId"] as? String).map(bare) })
        let deadRecipients = Set(dead.compactMap { $0["recipient"] as? String })
        #expect(deadMessageIDs.count == deadCount && !deadRecipients.isEmpty)
        try server.refuseEverything(false)

        // Support already resent one notice by hand; one order was cancelled meanwhile.
        #expect(try await run(["resend", "ORD-2026-004711", "--kind", "admin-notice", "--reason", "customer called",
                               "--actor", "anna"]).status == 0)
        #expect(try await run(["enqueue", TestEnvironment.fixture("order-cancelled.json")]).status == 0)
        #expect(try await run(["drain"]).status == 0)
        let byHand = try server.messages().count
        #expect(byHand >= 1)

        // Dry run: says what it would do, changes nothing.
        let common = ["resend-dead", "--since", "2026-11-30T06:00:00Z", "--until", Self.until,
                      "--reason", "relay fixed (INC-42)", "--actor", "ops"]
        let dry = try await run(common + ["--dry-run"])
        #expect(dry.status == 1, "\(dry.stderr)")
        #expect(dry.stdout.contains("would resend ORD-2026-004711 access-data: 1 dead, last reply: 554 5.7.1 relay access denied"),
                "\(dry.stdout)")
        #expect(dry.stdout.contains("skipped ORD-2026-004711 admin-notice: resent already"), "\(dry.stdout)")
        let waiting = try await run(["list", "--state", "scheduled"]).stdout
        #expect(waiting == "0 deliveries\n", "\(waiting)")

        // The run: one resend per order and kind, none for the cancelled order, the
        // purged access data refused (exit 1).
        let resend = try await run(common)
        #expect(resend.status == 1, "\(resend.stdout)\(resend.stderr)")
        #expect(resend.stdout.hasPrefix("refused ORD-2026-004699 access-data: its secrets were purged"), "\(resend.stdout)")
        #expect(resend.stdout.contains("scheduled ORD-2026-004699 admin-notice"), "\(resend.stdout)")
        #expect(resend.stdout.contains("scheduled ORD-2026-004711 access-data: 1 deliveries"), "\(resend.stdout)")
        #expect(resend.stdout.contains("scheduled ORD-2026-004800 access-data"), "\(resend.stdout)")
        #expect(resend.stdout.contains("skipped ORD-2026-004711 admin-notice: resent already"), "\(resend.stdout)")
        #expect(resend.stdout.contains("skipped ORD-2026-004712 access-data: the order was cancelled"), "\(resend.stdout)")
        #expect(resend.stdout.contains("skipped ORD-2026-004712 admin-notice: the order was cancelled"), "\(resend.stdout)")
        #expect(resend.stdout.contains("1 refused; \(deadCount) dead deliveries ended 2026-11-30T06:00:00Z to 2026-12-01T09:00:00Z"),
                "\(resend.stdout)")
        // "scheduled ORDER KIND: N deliveries (...)": as many messages as the lines announce.
        let announced = resend.stdout.split(separator: "\n").filter { $0.hasPrefix("scheduled ") }.map { line in
            Int(line.split(separator: ": ").dropFirst().first?.split(separator: " ").first ?? "") ?? -1
        }
        #expect(announced.count == 3 && !announced.contains(-1), "\(resend.stdout)")
        #expect(try await run(["drain"]).status == 0)
        let arrived = try server.messages()
        let resentMail = Array(arrived.dropFirst(byHand))
        #expect(resentMail.count == announced.reduce(0, +), "\(resentMail.map(\.rcptTos))")
        // Each resend goes to recipients of the dead mail, under a Message-ID none of the dead ones had.
        for mail in resentMail {
            #expect(Set(mail.rcptTos).isSubset(of: deadRecipients), "\(mail.rcptTos)")
            #expect(!deadMessageIDs.contains(bare(mail.messageId)), "a dead original's Message-ID reused: \(mail.messageId)")
        }
        #expect(Set(arrived.map(\.messageId)).count == arrived.count)
        let status = try await run(["status", "ORD-2026-004711"]).stdout
        #expect(status.contains("ops"), "\(status)")
        #expect(status.contains("relay fixed (INC-42)"), "\(status)")

        // Again: everything is resent already or skipped; only the refusal stays.
        let again = try await run(common)
        #expect(again.stdout.contains("resend-dead: 0 resent"), "\(again.stdout)")
        #expect(!again.stdout.contains("\nscheduled "), "\(again.stdout)")
        #expect(try server.messages().count == arrived.count)
    }

    @Test("the support console's home page lists the week's undelivered mail, linked to its order")
    func consoleHome() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("console-dead")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        env["FLEXPOST_SUPPORT_TOKEN"] = "dead-token"
        let serve = try await ServeProcess(environment: env, directory: dir)
        let signedIn = try await ConsoleLogin.signIn(serve.base, token: "dead-token").cookie
        let empty = try await HTTPClient.send("GET", serve.base + "/support/", headers: signedIn)
        #expect(empty.status == 200)
        #expect(empty.body.contains("No e-mail went undelivered in the last 7 days."), "\(empty.body)")
        // Two dead ones: the count, no "more".
        try server.refuseEverything(true)
        let past = ISO8601DateFormatter().string(from: Date().addingTimeInterval(-60))
        let two = try EventEditing.orders(2, confirmedAt: past, adminNoticeOnly: true)
        /// Enqueues notices (serve sends them to the refusing relay) and reads the
        /// first page until it says `text` (the deliveries are dead by then).
        func enqueue(_ orders: Data, thenPageSaying text: String) async throws -> HTTPClient.Answer {
            #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: orders).status == 0)
            var page = empty
            for _ in 0..<200 where !page.body.contains(text) {
                try await Task.sleep(for: .milliseconds(50))
                page = try await HTTPClient.send("GET", serve.base + "/support/", headers: signedIn)
            }
            return page
        }
        let few = try await enqueue(two, thenPageSaying: "2 e-mail(s) could not be delivered in the last 7 days.")
        #expect(few.body.contains("2 e-mail(s) could not be delivered in the last 7 days."), "\(few.body)")
        #expect(!few.body.contains("newest"))

        // 50 more (the first two again are duplicates): 52 dead.
        let orders = try EventEditing.orders(52, confirmedAt: past, adminNoticeOnly: true)
        let page = try await enqueue(orders, thenPageSaying: "More than 50")
        // Signed out: the login page, nothing of the queue.
        let anonymous = try await HTTPClient.send("GET", serve.base + "/support/")
        _ = await serve.terminate()
        #expect(!anonymous.body.contains("ORD-LOAD"))
        #expect(page.status == 200)
        #expect(page.body.contains("More than 50 e-mail(s) could not be delivered in the last 7 days (the newest 50 are listed; `flexpost list --state dead` shows all)"),
                "\(page.body)")
        let linked = try #require(page.body.firstMatch(of: #/<a href="/support/orders\?id=(ORD-LOAD-\d{5})">(ORD-LOAD-\d{5})</a>/#))
        #expect(linked.output.1 == linked.output.2, "each row links to its own order")
        #expect(page.body.contains("554 5.7.1 relay access denied"))
        let rows = page.body.components(separatedBy: "<tr><td><a href=").count - 1
        #expect(rows == 50)
    }

    @Test("resend-dead checks its options before any work (exit 2)")
    func options() async throws {
        let dir = try TestEnvironment.temporaryDirectory("resend-dead-options")
        let env = TestEnvironment.baseEnvironment()
        for (arguments, message) in [
            (["resend-dead", "--reason", "r", "--actor", "a"], "--since"),
            (["resend-dead", "--since", "yesterday", "--reason", "r", "--actor", "a"], "The value 'yesterday' is invalid for '--since <since>'"),
            (["resend-dead", "--since", Self.until, "--until", Self.since, "--reason", "r", "--actor", "a"],
             "--until must not be before --since"),
            (["resend-dead", "--since", Self.since, "--kind", "sms", "--reason", "r", "--actor", "a"], "--kind"),
            (["resend-dead", "--since", Self.since, "--reason", "r\u{1B}[31m", "--actor", "a"], "control characters"),
        ] {
            let result = try await flexpost(arguments, environment: env, directory: dir)
            #expect(result.status == 2, "\(arguments)")
            #expect(result.stderr.contains(message), "\(arguments): \(result.stderr)")
        }
    }

    @Test("the plan: one item per order and kind; resent already, cancelled and purged are told apart")
    func plan() {
        func delivery(_ id: Int64, _ order: String, _ kind: DeliveryKind, _ state: DeliveryState) -> Delivery {
            Delivery(id: id, orderId: order, kind: kind,
                     recipient: Contact(name: "R", email: try! EmailAddress(validating: "r\(id)@example.com")),
                     language: .de, state: state, dueAt: Date(timeIntervalSince1970: 0),
                     firstDueAt: Date(timeIntervalSince1970: 0), messageID: "m\(id)", attempts: 1,
                     createdAt: Date(timeIntervalSince1970: 0))
        }
        let dead = [delivery(1, "A", .adminNotice, .dead), delivery(2, "A", .adminNotice, .dead),
                    delivery(3, "A", .accessData, .dead), delivery(4, "B", .accessData, .dead),
                    delivery(5, "C", .accessData, .dead), delivery(6, "D", .adminNotice, .dead),
                    delivery(7, "E", .accessData, .dead)]
        func state(_ deliveries: [Delivery], cancelled: Bool = false, purged: Bool = false) -> DeadLetterResend.Order {
            DeadLetterResend.Order(deliveries: deliveries, cancelled: cancelled, secretsPurged: purged)
        }
        let orders = [
            "A": state(dead.filter { $0.orderId == "A" } + [delivery(9, "A", .adminNotice, .scheduled)], purged: true),
            "B": state([dead[3], delivery(8, "B", .accessData, .cancelled)]),
            "C": state([delivery(0, "C", .accessData, .sent), dead[4]]),
            "D": state([dead[5]], cancelled: true),
        ]
        let items = DeadLetterResend.plan(dead: dead, kind: nil, orders: orders)
        #expect(items.map { "\($0.orderId) \($0.kind.rawValue) \($0.dead.count)" }
            == ["A admin-notice 2", "A access-data 1", "B access-data 1", "C access-data 1", "D admin-notice 1",
                "E access-data 1"])
        #expect(items.map(\.verdict) == [.resentAlready(orders["A"]!.deliveries[3]), .secretsGone, .resend, .resend,
                                          .cancelled, .cancelled],
                "a later live delivery counts, a cancelled or earlier sent one does not; purged secrets stop access data only; an order cancelled or gone is skipped")
        #expect(DeadLetterResend.plan(dead: dead, kind: .accessData, orders: orders).map(\.orderId) == ["A", "B", "C", "E"])
    }
}
