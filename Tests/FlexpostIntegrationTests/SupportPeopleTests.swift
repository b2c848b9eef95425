import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §7 people and roles: `flexpost support-user` makes the lines, people
/// sign in with name and password, act as themselves, within their role.
@Suite("support team: people and roles")
struct SupportPeopleTests {
    @Test("support-user makes bcrypt lines; a viewer reads, an agent resends as herself (a typed actor is ignored), an admin holds; refused buttons answer 403; 5 wrong passwords for one name, then 429")
    func peopleAndRoles() async throws {
        let dir = try TestEnvironment.temporaryDirectory("people")
        var env = TestEnvironment.baseEnvironment()
        var lines: [String] = []
        for (name, role) in [("anna", "agent"), ("vera", "viewer"), ("olaf", "admin")] {
            let made = try await flexpost(["support-user", name, "--role", role], environment: env, directory: dir,
                                          stdin: Data("\(name)-correct-horse-battery\n".utf8))
            #expect(made.status == 0 && made.stdout.hasPrefix("\(name):\(role):$2b$12$"), "\(made.stdout)\(made.stderr)")
            #expect(!made.stdout.contains("correct-horse"))
            lines.append(made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        #expect(try await flexpost(["support-user", "short", "--role", "agent"], environment: env, directory: dir,
                                   stdin: Data("tooshort\n".utf8)).status == 2)
        #expect(try await flexpost(["support-user", "x", "--role", "boss"], environment: env, directory: dir,
                                   stdin: Data("long-enough-password\n".utf8)).status == 2)
        let file = dir.appendingPathComponent("support-users")
        try ("# the support team\n" + lines.joined(separator: "\n") + "\n").write(to: file, atomically: true, encoding: .utf8)
        env["FLEXPOST_SUPPORT_USERS"] = file.path
        env["FLEXPOST_SUPPORT_TOKEN"] = "machine-token"
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env,
                                   directory: dir).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)
        let loginPage = try await HTTPClient.send("GET", serve.base + "/support/").body
        #expect(loginPage.contains(#"id="password""#) && !loginPage.contains(#"id="token""#))
        let order = serve.base + "/support/orders/ORD-2026-004711/resend"

        let anna = try await ConsoleLogin.signIn(serve.base, name: "anna", password: "anna-correct-horse-battery")
        let page = try await HTTPClient.send("GET", serve.base + "/support/orders?id=ORD-2026-004711", headers: anna.cookie).body
        #expect(page.contains(#"id="resend""#) && !page.contains(#"name="actor""#) && !page.contains(#"id="cancel""#),
                "an agent resends, types no name, cancels nothing")
        #expect(page.contains("<td>01.12.2026 08:00 MEZ</td>") && !page.contains("2026-12-01T07:00:00Z"), "local times (SPEC §7)")
        let resent = try await HTTPClient.send("POST", order, headers: anna.postHeaders,
                                               body: Data("kind=admin-notice&reason=lost&actor=mallory&csrf=\(anna.csrf)".utf8))
        #expect(resent.status == 200 && resent.body.contains("Resend scheduled"), "\(resent.body)")
        let holdAsAgent = try await HTTPClient.send("POST", serve.base + "/support/holds", headers: anna.postHeaders,
                                                    body: Data("reason=incident&csrf=\(anna.csrf)".utf8))
        #expect(holdAsAgent.status == 403 && holdAsAgent.body.contains("as agent you may not hold"), "\(holdAsAgent.body)")

        // One search field (SPEC §7): a phone number as written on a contract finds the order.
        let byPhone = try await HTTPClient.send("GET", serve.base + "/support/orders?q=%2B49%20221%204711001", headers: anna.cookie)
        #expect(byPhone.status == 200 && byPhone.body.contains("Order ORD-2026-004711"), "\(byPhone.status)")
        let none = try await HTTPClient.send("GET", serve.base + "/support/orders?q=nobody%40example.com", headers: anna.cookie)
        #expect(none.status == 404 && none.body.contains("0 order(s)"))
        let api = try await HTTPClient.send("GET", serve.base + "/v1/orders?q=SP-300401",
                                            headers: ["authorization": "Bearer machine-token"])
        #expect(api.status == 200 && api.body.contains(#""orderId":"ORD-2026-004711""#), "\(api.body)")

        let vera = try await ConsoleLogin.signIn(serve.base, name: "vera", password: "vera-correct-horse-battery")
        let veraPage = try await HTTPClient.send("GET", serve.base + "/support/orders?id=ORD-2026-004711", headers: vera.cookie).body
        #expect(veraPage.contains("Order ORD-2026-004711") && !veraPage.contains(#"id="resend""#))
        let refused = try await HTTPClient.send("POST", order, headers: vera.postHeaders,
                                                body: Data("kind=admin-notice&reason=lost&csrf=\(vera.csrf)".utf8))
        #expect(refused.status == 403 && refused.body.contains("as viewer you may not resend"), "\(refused.status)")
        #expect(refused.body.contains("Order ORD-2026-004711"), "the refusal answers with the order's page")

        let olaf = try await ConsoleLogin.signIn(serve.base, name: "olaf", password: "olaf-correct-horse-battery")
        let held = try await HTTPClient.send("POST", serve.base + "/support/holds", headers: olaf.postHeaders,
                                             body: Data("kind=admin-notice&reason=template+deploy&csrf=\(olaf.csrf)".utf8))
        #expect(held.status == 200 && held.body.contains("Held: admin-notice") && held.body.contains("by olaf: template deploy"),
                "the hold is olaf's: \(held.body)")

        // Five wrong passwords for one name: then 429, even with the right one.
        for attempt in 1...5 {
            let wrong = try await HTTPClient.send("POST", serve.base + "/support/login", headers: ConsoleLogin.form,
                                                  body: Data("name=anna&password=wrong-\(attempt)".utf8), followRedirects: false)
            #expect(wrong.status == 401)
        }
        let throttled = try await HTTPClient.send("POST", serve.base + "/support/login", headers: ConsoleLogin.form,
                                                  body: Data("name=anna&password=anna-correct-horse-battery".utf8),
                                                  followRedirects: false)
        #expect(throttled.status == 429 && throttled.headers["retry-after"] != nil)
        let stopped = await serve.terminate()
        #expect(stopped.stderr.contains("support.name=anna") && !stopped.stderr.contains("wrong-1"), "logged without the password")

        let status = try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir).stdout
        #expect(status.contains("anna\tresend\tadmin-notice by anna: lost") && !status.contains("mallory"), "\(status)")
    }

    @Test("a users file with a bad line stops serve (exit 2), naming the file and the line")
    func badFile() async throws {
        let dir = try TestEnvironment.temporaryDirectory("people-bad")
        var env = TestEnvironment.baseEnvironment()
        let file = dir.appendingPathComponent("users")
        try "anna:agent:$2b$12$abcdefghijklmnopqrstuuLhF0uHq0yO5s3C1rQe8x4q5u7sFh6qS\nbob:boss:$2b$12$abc\n"
            .write(to: file, atomically: true, encoding: .utf8)
        env["FLEXPOST_SUPPORT_USERS"] = file.path
        let serve = try await flexpost(["serve"], environment: env, directory: dir)
        #expect(serve.status == 2 && serve.stderr.contains("FLEXPOST_SUPPORT_USERS \(file.path): line 2: the role must be"),
                "\(serve.stderr)")
    }
}
