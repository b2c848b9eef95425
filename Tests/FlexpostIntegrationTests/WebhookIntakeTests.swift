import Foundation
import Testing
@testable import FlexpostTestSupport

/// `POST /v1/events` on `flexpost serve`, and its continuous delivery.
@Suite("webhook intake and serve")
struct WebhookIntakeTests {
    static let sample = try! Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture("order-second-site.json")))

    /// The sample, confirmed a minute ago by the real clock, so its notice is due now.
    static func confirmedJustNow() throws -> Data {
        var object = try JSONSerialization.jsonObject(with: sample) as! [String: Any]
        var data = object["data"] as! [String: Any]
        let formatter = ISO8601DateFormatter()
        data["confirmedAt"] = formatter.string(from: Date().addingTimeInterval(-60))
        object["data"] = data
        return try JSONSerialization.data(withJSONObject: object)
    }

    @Test("202 accepted, 200 duplicate, 401 wrong signature or 10-minute-old timestamp; due mail leaves; SIGTERM exits 0")
    func signedIntake() async throws {
        let server = try await SMTPTestServer()
        let dir = try TestEnvironment.temporaryDirectory("serve")
        let serve = try await ServeProcess(environment: TestEnvironment.baseEnvironment(smtpPort: server.port), directory: dir)

        let wrongSecret = "whsec_" + Data("not the configured secret at all".utf8).base64EncodedString()
        let forged = try await serve.post(Self.sample, secret: wrongSecret)
        #expect(forged.status == 401)
        let stale = try await serve.post(Self.sample, timestamp: Date().addingTimeInterval(-600))
        #expect(stale.status == 401)

        let event = try Self.confirmedJustNow()
        let accepted = try await serve.post(event)
        #expect(accepted.status == 202, "\(accepted.body)")
        #expect(accepted.body.contains("\"result\":\"accepted\""))
        let duplicate = try await serve.post(event)
        #expect(duplicate.status == 200)
        #expect(duplicate.body.contains("\"result\":\"duplicate\""))

        // Same orderId, different content: 409, the stored order untouched.
        let changed = EventEditing.data("order-second-site.json", [("data.items[0].access.password", "other-pw")])
        let conflict = try await serve.post(changed)
        #expect(conflict.status == 409)
        #expect(!conflict.body.contains("other-pw"))

        // The administrator notice is due at confirmedAt (in the past): serve sends it at once, once.
        let received = try await server.waitForMessages(1, seconds: 5)
        #expect(received.map(\.rcptTos) == [["bsp-admin@mueller-logistik.example"]])

        let finished = await serve.terminate()
        #expect(finished.status == 0, "\(finished.stderr)")
        #expect(try server.messages().count == 1)
        // Nothing of the secret in what serve said.
        #expect(!(finished.stdout + finished.stderr).contains("s7Qp-Lx2r-9vTm"))
    }

    @Test("415 for a non-JSON content type, 413 over 1 MiB (declared or chunked) with the JSON error, 400 naming the field")
    func refusals() async throws {
        let dir = try TestEnvironment.temporaryDirectory("serve-refusals")
        let serve = try await ServeProcess(environment: TestEnvironment.baseEnvironment(), directory: dir)
        let text = try await serve.post(Self.sample, contentType: "text/plain")
        #expect(text.status == 415)
        let huge = Data(repeating: UInt8(ascii: " "), count: 2 << 20)
        let tooLarge = try await serve.post(huge)
        #expect(tooLarge.status == 413)
        #expect(tooLarge.body.contains(#"{"error":"body must be at most 1 MiB"}"#))
        let chunked = try await HTTPClient.send("POST", serve.base + "/v1/events", headers: ["content-type": "application/json"],
                                                body: huge, chunked: true)
        #expect(chunked.status == 413)
        #expect(chunked.body.contains(#"{"error":"body must be at most 1 MiB"}"#), "the same JSON error without a length: \(chunked.body)")
        let invalid = try await serve.post(Data(#"{"type":"order.confirmed","timestamp":"2026-11-30T14:12:03Z","data":{"orderId":"X"}}"#.utf8))
        #expect(invalid.status == 400)
        let answer = try JSONSerialization.jsonObject(with: Data(invalid.body.utf8)) as? [String: String]
        #expect(answer?["field"] == "data.confirmedAt")
        #expect(answer?["rule"] == "is required")
        #expect(answer?["error"] != nil)
        _ = await serve.terminate()
    }

    @Test("a path of the API asked with a method it does not take: 405 with Allow and a JSON error; other paths stay 404")
    func wrongMethod() async throws {
        let dir = try TestEnvironment.temporaryDirectory("serve-methods")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_SUPPORT_TOKEN"] = "Support-Token-4242"
        let serve = try await ServeProcess(environment: env, directory: dir)
        for (method, path, allow) in [("GET", "/v1/events", "POST"), ("DELETE", "/v1/events", "POST"),
                                      ("PUT", "/v1/orders/ORD-1", "GET"), ("GET", "/v1/orders/ORD-1/resend", "POST"),
                                      ("POST", "/healthz", "GET"), ("DELETE", "/metrics", "GET")] {
            let answer = try await HTTPClient.send(method, serve.base + path)
            #expect(answer.status == 405, "\(method) \(path): \(answer.status)")
            #expect(answer.headers["allow"] == allow, "\(method) \(path)")
            #expect(answer.body.contains("\(method) is not allowed here: use \(allow)"), "\(answer.body)")
        }
        // HEAD is answered wherever GET is (load balancers probe with it), without a body.
        let head = try await HTTPClient.send("HEAD", serve.base + "/healthz")
        #expect(head.status == 200)
        #expect(head.body.isEmpty)
        #expect(try await HTTPClient.send("HEAD", serve.base + "/metrics").status == 200)
        let headEvents = try await HTTPClient.send("HEAD", serve.base + "/v1/events")
        #expect(headEvents.status == 405)
        #expect(headEvents.headers["allow"] == "POST")
        // A path that is no route: 404 with a JSON error naming it (an empty body before).
        let unknown = try await HTTPClient.send("GET", serve.base + "/v2/events?x=1")
        #expect(unknown.status == 404)
        #expect(unknown.headers["content-type"] == "application/json")
        #expect(unknown.body.contains(#""error":"no such route: GET /v2/events""#), "\(unknown.body)")
        // An unknown order on a real route keeps its own answer.
        let order = try await HTTPClient.send("GET", serve.base + "/v1/orders/ORD-NONE",
                                              headers: ["authorization": "Bearer Support-Token-4242"])
        #expect(order.status == 404)
        #expect(!order.body.contains("no such route"), "\(order.body)")
        #expect(try await HTTPClient.send("GET", serve.base + "/healthz").status == 200)
        _ = await serve.terminate()
    }

    @Test("serve refuses to start without a webhook secret (exit 2)")
    func needsSecret() async throws {
        let dir = try TestEnvironment.temporaryDirectory("serve-nosecret")
        var env = TestEnvironment.baseEnvironment()
        env.removeValue(forKey: "FLEXPOST_WEBHOOK_SECRET")
        let result = try await flexpost(["serve"], environment: env, directory: dir)
        #expect(result.status == 2)
        #expect(result.stderr.contains("FLEXPOST_WEBHOOK_SECRET"))
    }
}
