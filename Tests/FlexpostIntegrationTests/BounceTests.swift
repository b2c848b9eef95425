import FlexpostCore
import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §6 end to end: mail sent with a VERP return path through a real SMTP
/// server, bounces piped to `flexpost bounce` as an MTA would, on both stores.
@Suite("bounces")
struct BounceTests {
    static func sample(_ name: String, token: String, messageId: String) throws -> Data {
        let url = TestEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/bounces/\(name)")
        return Data(try String(contentsOf: url, encoding: .utf8).replacingOccurrences(of: "TOKEN", with: token)
            .replacingOccurrences(of: "<MSGID>", with: messageId).utf8)
    }

    @Test("VERP return path; a failed DSN makes the sent delivery bounced (status, diagnostic, MTA in its history), taken twice it is recorded once; a forged token matches nothing; a Message-ID matches without VERP; a delay is noted; --dry-run --json stores nothing; a store that cannot take it is exit 75",
          arguments: StoreKind.allCases)
    func bounces(kind: StoreKind) async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("bounce")
        var env = TestEnvironment.baseEnvironment(smtpPort: server.port)
        env["FLEXPOST_BOUNCE_ADDRESS"] = "bounces@companyflex.example"
        if kind == .postgres { env["FLEXPOST_DATABASE_URL"] = try await TestStores.newPostgresDatabase() }
        let run = { (arguments: [String], stdin: Data?) in try await flexpost(arguments, environment: env, directory: dir, stdin: stdin) }
        #expect(try await run(["enqueue", TestEnvironment.fixture("order-second-site.json")], nil).status == 0)
        #expect(try await run(["drain"], nil).stdout == "drain: 2 sent, 0 retrying, 0 dead\n")
        let sent = try await server.waitForMessages(2)
        let access = try #require(sent.first { $0.rcptTos == ["erika.mueller@mueller-logistik.example"] })
        let notice = try #require(sent.first { $0.rcptTos == ["bsp-admin@mueller-logistik.example"] })
        // The envelope sender names the delivery; the From header stays.
        let verp = try #require(access.mailFrom.firstMatch(of: /^bounces\+(\d+)-([a-z2-7]{16})@companyflex\.example$/))
        #expect(access.from.contains("noreply@companyflex.example") && notice.mailFrom != access.mailFrom)
        let token = "\(verp.1)-\(verp.2)"

        // A Postfix DSN to the VERP address (the returned Message-ID is not even ours).
        let postfix = try Self.sample("postfix-user-unknown.eml", token: token, messageId: "<unrelated@elsewhere.example>")
        let taken = try await run(["bounce", "-"], postfix)
        #expect(taken.status == 0 && taken.stdout == "bounced - delivery \(verp.1) 5.1.1 erika.mueller@mueller-logistik.example\n",
                "\(taken.stdout)\(taken.stderr)")
        let status = try await run(["status", "ORD-2026-004711"], nil).stdout
        #expect(status.contains("\taccess-data\tbounced\t"), "\(status)")
        #expect(status.contains("bounce\tbounced\tdelivery \(verp.1) (access-data): 5.1.1; 550 5.1.1")
            && status.contains("remote MTA mx.mueller-logistik.example; reported by mx.companyflex.example"), "\(status)")
        #expect(try await run(["list", "--state", "bounced"], nil).stdout.hasSuffix("1 deliveries\n"))
        let again = try await run(["bounce", "-"], postfix)
        #expect(again.status == 0 && again.stdout.hasPrefix("duplicate - delivery \(verp.1)"), "\(again.stdout)")
        #expect(try await run(["status", "ORD-2026-004711"], nil).stdout.components(separatedBy: "\tbounced\tdelivery").count == 2,
                "one history line")

        // A forged token and a Message-ID nobody sent: exit 0 all the same (never bounce a bounce).
        let forged = try Self.sample("postfix-user-unknown.eml", token: "\(verp.1)-aaaaaaaaaaaaaaaa", messageId: "<nobody@x.example>")
        let unmatched = try await run(["bounce", "-"], forged)
        #expect(unmatched.status == 0 && unmatched.stdout.hasPrefix("unmatched (failed) -"), "\(unmatched.stdout)")

        // Without a usable token, the returned Message-ID: a delay of the notice is noted, it stays sent.
        let delayed = try Self.sample("gmail-delayed.eml", token: "x", messageId: notice.messageId)
        let dryRun = try await run(["bounce", "--dry-run", "--json", "-"], delayed)
        let object = try JSONSerialization.jsonObject(with: Data(dryRun.stdout.utf8)) as? [String: Any]
        #expect(object?["class"] as? String == "delayed" && object?["status"] as? String == "4.4.1"
            && object?["messageId"] as? String == notice.messageId && (object?["delivery"] as? Int).map(Int64.init) != nil,
                "\(dryRun.stdout)")
        #expect(!(try await run(["status", "ORD-2026-004711"], nil).stdout.contains("bounce-delayed")), "a dry run stores nothing")
        let noted = try await run(["bounce", "-"], delayed)
        #expect(noted.stdout.hasPrefix("delay noted -"), "\(noted.stdout)")
        let after = try await run(["status", "ORD-2026-004711"], nil).stdout
        #expect(after.contains("\tadmin-notice\tsent\t") && after.contains("bounce\tbounce-delayed\t"), "\(after)")
        // An auto-reply changes nothing.
        let ooo = try await run(["bounce", "-"], try Self.sample("autoreply.eml", token: token, messageId: access.messageId))
        #expect(ooo.status == 0 && ooo.stdout.hasPrefix("ignored (autoreply) -"), "\(ooo.stdout)")

        // The console's first page lists it beside the dead mail; /metrics counts the reports.
        env["FLEXPOST_SUPPORT_TOKEN"] = "bounce-token"
        let serve = try await ServeProcess(environment: env, directory: dir)
        let login = try await ConsoleLogin.signIn(serve.base, token: "bounce-token")
        let home = try await HTTPClient.send("GET", serve.base + "/support/", headers: login.cookie).body
        #expect(home.contains("1 e-mail(s) were accepted by the relay and then refused") && home.contains("<td>5.1.1</td>")
            && home.contains("User unknown in virtual mailbox table"), "\(home)")
        let overview = try await HTTPClient.send("GET", serve.base + "/support/overview", headers: login.cookie)
        #expect(overview.status == 200 && overview.body.contains("<tr><td>bounced</td><td>1</td></tr>")
            && overview.body.contains("1 sent, 0 dead, 1 bounced") && overview.body.contains("<svg ")
            && overview.body.contains(" bounced: 1</title>"), "\(overview.body)")
        #expect(overview.headers["content-security-policy"]?.hasPrefix("default-src 'none'") == true)
        let metrics = try await HTTPClient.send("GET", serve.base + "/metrics").body
        #expect(metrics.contains(#"flexpost_bounces_total{kind="access-data",class="failed"} 1"#)
            && metrics.contains(#"flexpost_bounces_total{kind="admin-notice",class="delayed"} 1"#)
            && metrics.contains(#"flexpost_queue_deliveries{state="bounced"} 1"#), "\(metrics)")
        _ = await serve.terminate()

        // The store cannot take it: 75, so that the MTA keeps the message.
        var down = env
        down["FLEXPOST_DATABASE_URL"] = "postgres://flexpost@127.0.0.1:\(TestEnvironment.freePort())/none?sslmode=disable"
        let tempfail = try await flexpost(["bounce", "-"], environment: down, directory: dir, stdin: postfix)
        #expect(tempfail.status == 75, "\(tempfail.stderr)")
    }

    @Test("bounce --dry-run --json over the whole fixture set, in one run: the expected class, status and recipient of every file (Tests/Fixtures/bounces/expected.json), stored nothing")
    func fixtureSet() async throws {
        let dir = try TestEnvironment.temporaryDirectory("bounce-fixtures")
        let env = TestEnvironment.baseEnvironment()
        let fixtures = TestEnvironment.packageRoot.appendingPathComponent("Tests/Fixtures/bounces")
        let names = try FileManager.default.contentsOfDirectory(atPath: fixtures.path).filter { $0.hasSuffix(".eml") }.sorted()
        let expected = try #require(try JSONSerialization.jsonObject(with: Data(contentsOf: fixtures.appendingPathComponent("expected.json")))
            as? [String: [[String: Any]]])
        #expect(Set(expected.keys) == Set(names), "every sample has its expectation")
        let run = try await flexpost(["bounce", "--dry-run", "--json"] + names.map { fixtures.appendingPathComponent($0).path },
                                     environment: env, directory: dir)
        #expect(run.status == 0, "\(run.stderr)")
        var got: [String: [[String: String]]] = [:]
        for line in run.stdout.split(separator: "\n") {
            let object = try #require(try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any])
            let file = URL(fileURLWithPath: try #require(object["file"] as? String)).lastPathComponent
            got[file, default: []].append(["class": object["class"] as? String ?? "-", "status": object["status"] as? String ?? "-",
                                           "recipient": object["recipient"] as? String ?? "-"])
        }
        for (name, entries) in expected {
            let want = entries.map { ["class": $0["class"] as? String ?? "-", "status": $0["status"] as? String ?? "-",
                                      "recipient": $0["recipient"] as? String ?? "-"] }
            #expect(got[name] == want, "\(name)")
        }
        #expect(try await flexpost(["list", "--state", "bounced"], environment: env, directory: dir).stdout.hasSuffix("0 deliveries\n"))
    }
}
