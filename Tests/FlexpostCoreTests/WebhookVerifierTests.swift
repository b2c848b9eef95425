import FlexpostCore
import Foundation
import Testing

/// Standard Webhooks signatures (SPEC §4).
@Suite("webhook signatures")
struct WebhookVerifierTests {
    let secret = "whsec_" + Data("flexpost-test-secret-0123456789".utf8).base64EncodedString()
    let other = "whsec_" + Data("another-secret-for-the-rotation".utf8).base64EncodedString()
    let body = Array("{\"type\":\"order.confirmed\"}".utf8)
    let now = Date(timeIntervalSince1970: 1_796_000_000)

    func verify(_ verifier: WebhookVerifier, timestamp: Int64, signature: String?) throws {
        try verifier.verify(id: "msg_1", timestamp: String(timestamp), signatures: signature, body: body, now: now)
    }

    @Test("a good signature passes; several in the header, one valid, passes")
    func good() throws {
        let verifier = try WebhookVerifier(secrets: Secret(secret))
        let ts = Int64(now.timeIntervalSince1970)
        let signature = WebhookVerifier.sign(id: "msg_1", timestamp: ts, body: body, secret: secret)!
        try verify(verifier, timestamp: ts, signature: signature)
        try verify(verifier, timestamp: ts, signature: "v1,AAAA " + signature)
    }

    @Test("wrong secret, changed body, missing headers, stale and future timestamps fail")
    func bad() throws {
        let verifier = try WebhookVerifier(secrets: Secret(secret))
        let ts = Int64(now.timeIntervalSince1970)
        let wrong = WebhookVerifier.sign(id: "msg_1", timestamp: ts, body: body, secret: other)!
        #expect(throws: WebhookVerifier.Failure.badSignature) { try verify(verifier, timestamp: ts, signature: wrong) }
        let otherBody = WebhookVerifier.sign(id: "msg_1", timestamp: ts, body: body + [32], secret: secret)!
        #expect(throws: WebhookVerifier.Failure.badSignature) { try verify(verifier, timestamp: ts, signature: otherBody) }
        #expect(throws: WebhookVerifier.Failure.missingHeaders) { try verify(verifier, timestamp: ts, signature: nil) }
        for skew: Int64 in [-600, 301, -301] {
            let signature = WebhookVerifier.sign(id: "msg_1", timestamp: ts + skew, body: body, secret: secret)!
            #expect(throws: WebhookVerifier.Failure.staleTimestamp) { try verify(verifier, timestamp: ts + skew, signature: signature) }
        }
    }

    @Test("during a rotation every configured secret is accepted")
    func rotation() throws {
        let verifier = try WebhookVerifier(secrets: Secret(secret + " " + other))
        let ts = Int64(now.timeIntervalSince1970)
        try verify(verifier, timestamp: ts, signature: WebhookVerifier.sign(id: "msg_1", timestamp: ts, body: body, secret: other))
        try verify(verifier, timestamp: ts, signature: WebhookVerifier.sign(id: "msg_1", timestamp: ts, body: body, secret: secret))
    }
}
