@testable import FlexpostServer
import FlexpostCore
import Foundation
import Testing
@testable import FlexpostTestSupport

/// SPEC §7 sessions: random, server-side in the queue store, shared by every
/// `serve` on it, revoked at sign-out; a CSRF token in every form.
@Suite("console sessions")
struct SessionTests {
    @Test("two serve on one database share sessions: signed in on one, used on the other; a POST without the CSRF token is refused; after sign-out the cookie is worth nothing anywhere",
          arguments: StoreKind.allCases)
    func sharedAndRevoked(kind: StoreKind) async throws {
        let dir = try TestEnvironment.temporaryDirectory("sessions")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_SUPPORT_TOKEN"] = "session-token"
        if kind == .postgres { env["FLEXPOST_DATABASE_URL"] = try await TestStores.newPostgresDatabase() }
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env,
                                   directory: dir).status == 0)
        let a = try await ServeProcess(environment: env, directory: dir)
        let b = try await ServeProcess(environment: env, directory: dir)
        let login = try await ConsoleLogin.signIn(a.base, token: "session-token")
        let again = try await ConsoleLogin.signIn(a.base, token: "session-token")
        #expect(login.cookie != again.cookie && login.csrf != again.csrf, "every sign-in is a new random session")
        let raw = try await HTTPClient.send("POST", a.base + "/support/login", headers: ConsoleLogin.form,
                                            body: Data("token=session-token".utf8), followRedirects: false)
        let setCookie = raw.headers["set-cookie"] ?? ""
        #expect(setCookie.contains("; HttpOnly") && setCookie.contains("; SameSite=Strict") && !setCookie.contains("Secure"),
                "loopback: not Secure (\(setCookie))")

        let onB = try await HTTPClient.send("GET", b.base + "/support/orders?id=ORD-2026-004711", headers: login.cookie)
        #expect(onB.status == 200 && onB.body.contains("Order ORD-2026-004711"), "the other serve knows the session")
        let resend = "kind=admin-notice&reason=lost&actor=anna"
        let order = b.base + "/support/orders/ORD-2026-004711/resend"
        let withoutToken = try await HTTPClient.send("POST", order, headers: login.postHeaders, body: Data(resend.utf8))
        #expect(withoutToken.status == 403, "\(withoutToken.status)")
        let otherSessions = try await HTTPClient.send("POST", order, headers: login.postHeaders,
                                                      body: Data((resend + "&csrf=\(again.csrf)").utf8))
        #expect(otherSessions.status == 403, "another session's token is no good")
        let right = try await HTTPClient.send("POST", order, headers: login.postHeaders,
                                              body: Data((resend + "&csrf=\(login.csrf)").utf8))
        #expect(right.status == 200 && right.body.contains("Resend scheduled"), "\(right.body)")

        let logoutWithout = try await HTTPClient.send("POST", b.base + "/support/logout", headers: login.postHeaders,
                                                      body: Data(), followRedirects: false)
        #expect(logoutWithout.status == 403, "sign-out needs the token too")
        let logout = try await HTTPClient.send("POST", b.base + "/support/logout", headers: login.postHeaders,
                                               body: Data("csrf=\(login.csrf)".utf8), followRedirects: false)
        #expect(logout.status == 303 && (logout.headers["set-cookie"] ?? "").contains("Max-Age=0"), "\(logout.status) \(logout.headers) \(logout.body)")
        for serve in [a, b] {
            let replay = try await HTTPClient.send("GET", serve.base + "/support/orders?id=ORD-2026-004711", headers: login.cookie)
            #expect(replay.status == 401 && !replay.body.contains("ORD-2026-004711"), "a replayed cookie after sign-out: \(replay.status) \(replay.body.prefix(1500))")
        }
        let still = try await HTTPClient.send("GET", a.base + "/support/", headers: again.cookie)
        #expect(still.body.contains("Find an order"), "the other session lives on")
        _ = await a.terminate()
        _ = await b.terminate()
        if kind == .sqlite {
            // The store holds hashes: no cookie value is in the database files.
            let queue = dir.appendingPathComponent("queue")
            var bytes = Data()
            for name in try FileManager.default.contentsOfDirectory(atPath: queue.path) where name.hasPrefix("flexpost.sqlite") {
                bytes += try Data(contentsOf: queue.appendingPathComponent(name))
            }
            let value = String(again.cookie["cookie"]?.split(separator: "=", maxSplits: 1).last ?? "")
            #expect(!value.isEmpty && bytes.range(of: Data(value.utf8)) == nil)
        }
    }

    @Test("the session cookie is Secure unless the console is served on loopback")
    func secureCookie() async throws {
        let store = try await TestStores.make(.sqlite)
        let sessions = ConsoleSessions(store: DeadlineStore(store, .requests), clock: SystemClock(), secure: true, people: nil)
        #expect(sessions.cookie(Secret("x")).hasSuffix("; HttpOnly; SameSite=Strict; Secure"))
        #expect(ConsoleSessions(store: DeadlineStore(store, .requests), clock: SystemClock(), secure: false, people: nil).cookie(Secret("x")).hasSuffix("SameSite=Strict"))
    }
}

/// Issue 20 point 12: the console escapes HTML byte by byte, as the mail does.
@Suite("console escaping")
struct ConsoleEscapingTests {
    @Test("a quote or angle bracket followed by a combining mark is escaped on every console page; a template without the pragma is refused")
    func bytewise() throws {
        var sources: [String: String] = [:]
        for name in SupportConsole.Pages.names {
            sources[name] = try String(contentsOf: TestEnvironment.packageRoot.appendingPathComponent("templates/console/\(name).mustache"),
                                       encoding: .utf8)
        }
        let pages = try SupportConsole.Pages(sources: sources)
        let hostile = "a\"\u{301} autofocus x=\"<\u{301}script>"
        let html = pages.render("order", ["orderId": hostile, "orderPath": "a", "customerNumber": hostile,
                                          "deliveries": [], "history": [["at": "t", "actor": hostile, "action": "x", "detail": hostile]]])
        #expect(!html.contains("\"\u{301}") && !html.contains("<\u{301}"), "\(html)")
        #expect(html.contains("&quot;\u{301}") && html.contains("&lt;\u{301}script&gt;"))
        // swift-mustache's own HTML type lets the combined character through: the reason for the pragma.
        #expect("\"\u{301}".count == 1)
        sources["order"] = sources["order"]?.replacingOccurrences(of: SupportConsole.Pages.pragma, with: "")
        #expect(throws: MailTemplates.TemplateError.self) { try SupportConsole.Pages(sources: sources) }
    }
}
