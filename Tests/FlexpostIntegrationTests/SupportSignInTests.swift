@testable import FlexpostServer
import Foundation
import Testing
@testable import FlexpostTestSupport

/// Today's single-token sign-in made safe (issue 20): wrong tokens throttled,
/// logged and counted; console POSTs only from the console itself; order ids
/// percent-encoded in every link and form.
@Suite("support sign-in and console hardening")
struct SupportSignInTests {
    static let token = "support-token-for-sign-in-tests"

    static func serve(_ label: String) async throws -> (ServeProcess, URL) {
        let dir = try TestEnvironment.temporaryDirectory(label)
        var env = TestEnvironment.baseEnvironment(smtpPort: TestEnvironment.freePort())
        env["FLEXPOST_SUPPORT_TOKEN"] = token
        return (try await ServeProcess(environment: env, directory: dir), dir)
    }

    static let form = ["content-type": "application/x-www-form-urlencoded"]

    @Test("5 wrong tokens from one address within 15 minutes: then 429 with Retry-After, even for the right one; each failure logged without what was typed, and counted")
    func consoleThrottled() async throws {
        let (serve, _) = try await Self.serve("sign-in-throttle")
        for attempt in 1...5 {
            let wrong = try await HTTPClient.send("POST", serve.base + "/support/login", headers: Self.form,
                                                  body: Data("token=guess-\(attempt)-xyzzy".utf8))
            #expect(wrong.status == 401, "attempt \(attempt)")
        }
        let right = try await HTTPClient.send("POST", serve.base + "/support/login", headers: Self.form,
                                              body: Data("token=\(Self.token)".utf8))
        #expect(right.status == 429)
        let wait = try #require(Int(right.headers["retry-after"] ?? ""))
        #expect(wait > 800 && wait <= 900, "until the window ends: \(wait)")
        let metrics = try await HTTPClient.send("GET", serve.base + "/metrics").body
        #expect(metrics.contains(#"flexpost_support_auth_failures_total{route="console"} 5"#), "\(metrics)")
        let log = await serve.terminate().stderr
        #expect(log.components(separatedBy: "support sign-in failed").count - 1 == 5, "\(log)")
        #expect(!log.contains("xyzzy") && !log.contains(Self.token), "what was typed is never logged")
    }

    @Test("the API's bearer token: 5 wrong ones from one address, then 429 with Retry-After; no token at all is not counted")
    func bearerThrottled() async throws {
        let (serve, _) = try await Self.serve("bearer-throttle")
        let url = serve.base + "/v1/orders/ORD-1"
        for _ in 1...3 { #expect(try await HTTPClient.send("GET", url).status == 401) }
        for attempt in 1...5 {
            #expect(try await HTTPClient.send("GET", url, headers: ["authorization": "Bearer wrong-\(attempt)"]).status == 401)
        }
        let throttled = try await HTTPClient.send("GET", url, headers: ["authorization": "Bearer \(Self.token)"])
        #expect(throttled.status == 429 && throttled.headers["retry-after"] != nil)
        let metrics = try await HTTPClient.send("GET", serve.base + "/metrics").body
        #expect(metrics.contains(#"flexpost_support_auth_failures_total{route="api"} 5"#), "\(metrics)")
        _ = await serve.terminate()
    }

    @Test("a console POST from another origin, from another site, or not a form is refused with 403; the console's own is taken")
    func crossSiteRefused() async throws {
        let (serve, _) = try await Self.serve("cross-site")
        let body = Data("token=\(Self.token)".utf8)
        let login = serve.base + "/support/login"
        for headers in [
            Self.form.merging(["origin": "http://evil.example"]) { $1 },
            Self.form.merging(["sec-fetch-site": "cross-site"]) { $1 },
            ["content-type": "text/plain"],
            ["content-type": "application/json"],
        ] {
            #expect(try await HTTPClient.send("POST", login, headers: headers, body: body).status == 403, "\(headers)")
        }
        let own = Self.form.merging(["origin": serve.base, "sec-fetch-site": "same-origin"]) { $1 }
        #expect(try await HTTPClient.send("POST", login, headers: own, body: body).status == 200, "signed in, then redirected home")
        _ = await serve.terminate()
    }

    @Test("an order id holding /../ is percent-encoded in the console's links and forms; its resend is its own, not another order's")
    func orderIdsEncoded() async throws {
        let (serve, dir) = try await Self.serve("encoded-ids")
        var env = TestEnvironment.baseEnvironment(smtpPort: TestEnvironment.freePort())
        env["FLEXPOST_SUPPORT_TOKEN"] = Self.token
        for id in ["A/../B", "B"] {
            let event = EventEditing.data("order-second-base-package.json", [("data.orderId", id)])
            #expect(try await serve.post(event).status == 202)
        }
        let login = try await ConsoleLogin.signIn(serve.base, token: Self.token)
        let page = try await HTTPClient.send("GET", serve.base + "/support/orders?id=A%2F..%2FB", headers: login.cookie)
        #expect(page.body.contains(#"action="/support/orders/A%2F..%2FB/resend""#), "\(page.body)")
        let resend = try await HTTPClient.send(
            "POST", serve.base + "/support/orders/A%2F..%2FB/resend", headers: login.postHeaders,
            body: Data("kind=admin-notice&reason=lost&actor=anna&csrf=\(login.csrf)".utf8))
        #expect(resend.status == 200 && resend.body.contains("Resend scheduled"), "\(resend.body)")
        let api = try await HTTPClient.send("GET", serve.base + "/v1/orders/A%2F..%2FB", headers: ["authorization": "Bearer \(Self.token)"])
        #expect(api.status == 200 && api.body.contains(#""orderId":"A\/..\/B""#) || api.body.contains(#""orderId":"A/../B""#), "\(api.body)")
        _ = await serve.terminate()
        let resent = try await flexpost(["status", "A/../B"], environment: env, directory: dir).stdout
        #expect(resent.contains("anna\tresend"), "\(resent)")
        let other = try await flexpost(["status", "B"], environment: env, directory: dir).stdout
        #expect(!other.contains("\tresend\t"), "\(other)")
    }
}
