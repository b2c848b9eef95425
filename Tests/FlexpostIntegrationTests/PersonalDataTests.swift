@testable import FlexpostServer
import FlexpostCore
import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §8 personal data on both stores: retention and a data subject's
/// request, down to the bytes of the database files.
@Suite("personal data: retention and erasure")
struct PersonalDataStoreTests {
    /// Personal data of the sample order (`order-second-site.json`), in ASCII
    /// pieces that any encoding of the stored event keeps: names, addresses,
    /// e-mail addresses, phone numbers, the line id and the user name.
    static let probes = ["Erika M", "erika.mueller@mueller-logistik.example", "bsp-admin@mueller-logistik.example",
                         "Logistik GmbH", "Niederlassung K", "Hohe Stra", "4711000", "001234567890", "ank001234567890"]

    /// The probes in `bytes`, as text or as the hex pg_dump writes a `bytea` in.
    static func found(_ bytes: Data) -> [String] {
        probes.filter { probe in
            let hex = probe.utf8.map { String(format: "%02x", $0) }.joined()
            return bytes.range(of: Data(probe.utf8)) != nil || bytes.range(of: Data(hex.utf8)) != nil
        }
    }

    @Test("flexpost erase: afterwards no name, address, e-mail, phone number, line id or user name is in the database files (SQLite: every file; PostgreSQL: pg_dump), bounce reports and waiting delivery events included; status still shows the states and times",
          arguments: StoreKind.allCases)
    func erasedFromTheFiles(kind: StoreKind) async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("erase")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        var databaseURL: String?
        if kind == .postgres {
            databaseURL = try await TestStores.newPostgresDatabase()
            env["FLEXPOST_DATABASE_URL"] = databaseURL
        }
        // Delivery events on, to an order system that does not answer: they wait in the store.
        env["FLEXPOST_EVENTS_URL"] = "http://127.0.0.1:\(TestEnvironment.freePort())/flexpost-events"
        env["FLEXPOST_EVENTS_SECRET"] = "whsec_" + Data(repeating: 9, count: 32).base64EncodedString()
        let run = { (arguments: [String]) in try await flexpost(arguments, environment: env, directory: dir) }
        #expect(try await run(["enqueue", TestEnvironment.fixture("order-second-site.json")]).status == 0)
        #expect(try await run(["drain"]).stdout == "drain: 2 sent, 0 retrying, 0 dead\n")
        // The access data bounces; the report's diagnostic quotes the address.
        let access = try #require(try await server.waitForMessages(2).first { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] })
        let dsn = dir.appendingPathComponent("dsn.eml")
        try BounceTests.sample("postfix-user-unknown.eml", token: "x", messageId: access.messageId).write(to: dsn)
        #expect(try await run(["bounce", dsn.path]).stdout.hasPrefix("bounced"))
        let contents = { () async throws -> Data in
            if let databaseURL {
                let dump = try await ChildProcess(
                    executable: "/usr/bin/pg_dump", arguments: [databaseURL.replacingOccurrences(of: "?sslmode=disable", with: "")],
                    environment: ProcessInfo.processInfo.environment, directory: dir
                ).wait()
                guard dump.status == 0 else { throw TestFailure("pg_dump: \(dump.stderr)") }
                return Data(dump.stdout.utf8)
            }
            let queue = dir.appendingPathComponent("queue")
            var bytes = Data()
            for name in try FileManager.default.contentsOfDirectory(atPath: queue.path) where name.hasPrefix("flexpost.sqlite") {
                bytes += try Data(contentsOf: queue.appendingPathComponent(name))
            }
            return bytes
        }
        #expect(Self.found(try await contents()).count == Self.probes.count, "every probe is stored before the erasure")

        let erase = try await run(["erase", "--customer", "5500123456", "--reason", "Art. 17 request", "--actor", "dpo"])
        #expect(erase.status == 0 && erase.stdout == "erase: personal data of 1 orders of customer 5500123456 erased; "
            + "0 unsent deliveries cancelled\n", "\(erase.stdout)\(erase.stderr)")
        let left = Self.found(try await contents())
        #expect(left.isEmpty, "still in the database: \(left)")
        let status = try await run(["status", "ORD-2026-004711"])
        // Times in local time (SPEC §7: FLEXPOST_TIMEZONE, Europe/Berlin here).
        #expect(status.stdout.contains("personal data erased on ") && status.stdout.contains("\tbounced\t(erased)\tdue 01.12.2026 08:00 MEZ")
            && status.stdout.contains(" sent "), "\(status.stdout)")
        #expect(status.stdout.contains("dpo\tpersonal-data-erased\tpersonal data erased on request: Art. 17 request"))
        let again = try await run(["erase", "--customer", "5500123456", "--reason", "again", "--actor", "dpo"])
        #expect(again.stdout.hasSuffix("; 1 orders erased before\n"), "\(again.stdout)")
        let unknown = try await run(["erase", "--customer", "4242", "--reason", "r", "--actor", "dpo"])
        #expect(unknown.status == 1 && unknown.stderr.contains("unknown customer"))
        let replay = try await run(["enqueue", TestEnvironment.fixture("order-second-site.json")])
        #expect(replay.stdout.hasPrefix("duplicate order.confirmed ORD-2026-004711"), "\(replay.stdout)")

        // The API and the console say the personal data was erased, rather than "unknown order".
        env["FLEXPOST_SUPPORT_TOKEN"] = "dpo-token"
        let serve = try await ServeProcess(environment: env, directory: dir)
        let api = try await HTTPClient.send("GET", serve.base + "/v1/orders/ORD-2026-004711",
                                            headers: ["authorization": "Bearer dpo-token"])
        #expect(api.status == 200 && api.body.contains(#""personalDataErasedAt":"20"#) && Self.found(Data(api.body.utf8)).isEmpty,
                "\(api.body)")
        let cookie = try await ConsoleLogin.signIn(serve.base, token: "dpo-token").cookie
        let page = try await HTTPClient.send("GET", serve.base + "/support/orders?id=ORD-2026-004711", headers: cookie)
        #expect(page.status == 200 && page.body.contains("personal data erased on ") && page.body.contains(" MEZ") && page.body.contains("(erased)"),
                "\(page.body)")
        _ = await serve.terminate()
    }
}
