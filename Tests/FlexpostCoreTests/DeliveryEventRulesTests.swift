import FlexpostCore
import Foundation
import Testing

/// SPEC §6 delivery events: which changes make one, the body, the signature, the backoff.
@Suite struct DeliveryEventRulesTests {
    static let at = RFC3339.parse("2026-12-01T07:00:05Z")!

    @Test("every end of a delivery makes one event; a bounce's carries its status; other changes make none")
    func adding() {
        let changes: [QueueChange] = [
            .recordBounce(key: "k", deliveryId: 7, at: Self.at, bounceClass: .failed, status: "5.1.1", diagnostic: "550 no"),
            .finish(deliveryIds: [7], state: .bounced, at: Self.at),
            .finish(deliveryIds: [8, 9], state: .cancelled, at: Self.at),
            .finish(deliveryIds: [10], state: .scheduled, at: Self.at),
            .markCancelled(orderId: "o", at: Self.at),
        ]
        let events = DeliveryEvents.adding(to: changes).dropFirst(changes.count).compactMap { change -> DeliveryEventRecord? in
            guard case .emitDeliveryEvent(let event) = change else { return nil }
            return event
        }
        #expect(events.map(\.deliveryId) == [7, 8, 9])
        #expect(events.map(\.type) == [.bounced, .cancelled, .cancelled])
        #expect(events[0].detail == "5.1.1" && events[1].detail == nil)
        #expect(events[0].webhookId == "msg_delivery_7_bounced" && events[1].webhookId == "msg_delivery_8_cancelled")
        #expect(DeliveryEvents.adding(to: [.markCancelled(orderId: "o", at: Self.at)]).count == 1)
    }

    @Test("an attempt that ends sent or dead makes an event with the reply; a retry makes none")
    func attempts() {
        func attempt(_ state: DeliveryState, _ code: Int?) -> CompletedAttempt {
            CompletedAttempt(deliveryId: 3, attempt: AttemptRecord(startedAt: Self.at, finishedAt: Self.at, nextState: state,
                                                                   retryAt: nil, replyCode: code, reply: "queued as 4711"))
        }
        #expect(DeliveryEvents.event(for: attempt(.sent, 250)) == DeliveryEventRecord(deliveryId: 3, type: .sent, at: Self.at,
                                                                                      detail: "250 queued as 4711"))
        #expect(DeliveryEvents.event(for: attempt(.dead, nil))?.detail == "queued as 4711")
        #expect(DeliveryEvents.event(for: attempt(.retrying, 451)) == nil)
    }

    @Test("the body names the delivery and its order, and holds nothing else")
    func body() throws {
        let event = PendingDeliveryEvent(
            record: DeliveryEventRecord(deliveryId: 7, type: .bounced, at: Self.at, detail: "5.1.1"), attempts: 0,
            orderId: "ORD-1", customerNumber: "5500123456", kind: .accessData, recipient: "erika@example.com")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(DeliveryEvents.body(event))) as? [String: Any])
        #expect(object["type"] as? String == "delivery.bounced" && object["timestamp"] as? String == "2026-12-01T07:00:05Z")
        let data = try #require(object["data"] as? [String: Any])
        #expect(Set(data.keys) == ["orderId", "customerNumber", "deliveryId", "kind", "recipient", "at", "status"])
        #expect(data["deliveryId"] as? Int == 7 && data["status"] as? String == "5.1.1" && data["kind"] as? String == "access-data")
    }

    @Test("signed as the verifier checks it; another secret does not verify")
    func signature() throws {
        let secret = "whsec_" + Data("a-secret-of-at-least-16-bytes".utf8).base64EncodedString()
        let signer = try WebhookSigner(secret: Secret(secret))
        let body = Array(#"{"type":"delivery.sent"}"#.utf8)
        let headers = Dictionary(uniqueKeysWithValues: signer.headers(id: "msg_1", timestamp: 1_796_000_000, body: body).map { ($0.name, $0.value) })
        let verifier = try WebhookVerifier(secrets: Secret(secret))
        try verifier.verify(id: headers["webhook-id"], timestamp: headers["webhook-timestamp"], signatures: headers["webhook-signature"],
                            body: body, now: Date(timeIntervalSince1970: 1_796_000_000))
        #expect(headers["webhook-signature"] == WebhookVerifier.sign(id: "msg_1", timestamp: 1_796_000_000, body: body, secret: secret))
        let other = try WebhookVerifier(secrets: Secret("whsec_" + Data("another-secret-of-16-bytes".utf8).base64EncodedString()))
        #expect(throws: WebhookVerifier.Failure.badSignature) {
            try other.verify(id: "msg_1", timestamp: "1796000000", signatures: headers["webhook-signature"], body: body,
                             now: Date(timeIntervalSince1970: 1_796_000_000))
        }
        #expect(throws: WebhookVerifier.ConfigurationError.self) { try WebhookSigner(secret: Secret("whsec_short")) }
    }

    @Test("a failed post is tried again soon, then less often, until the retry lifetime from the event is over")
    func backoff() {
        let policy = DeliveryEvents.retryPolicy(lifetime: 3_600)
        func event(_ attempts: Int) -> PendingDeliveryEvent {
            PendingDeliveryEvent(record: DeliveryEventRecord(deliveryId: 1, type: .sent, at: Self.at, detail: nil), attempts: attempts,
                                 orderId: "o", customerNumber: "c", kind: .adminNotice, recipient: "r")
        }
        #expect(DeliveryEvents.nextTry(event(0), now: Self.at, policy: policy, random: 0.5) == Self.at.addingTimeInterval(5))
        #expect(DeliveryEvents.nextTry(event(3), now: Self.at, policy: policy, random: 0.5) == Self.at.addingTimeInterval(40))
        #expect(DeliveryEvents.nextTry(event(20), now: Self.at.addingTimeInterval(3_000), policy: policy, random: 0.5) == nil)
        // Posted again after it was given up: a new lifetime from then, the backoff from its start.
        let retriedAt = Self.at.addingTimeInterval(86_400)
        var retried = event(0)
        retried.retriedAt = retriedAt
        #expect(DeliveryEvents.nextTry(retried, now: retriedAt, policy: policy, random: 0.5) == retriedAt.addingTimeInterval(5))
        retried.attempts = 3
        #expect(DeliveryEvents.nextTry(retried, now: retriedAt.addingTimeInterval(60), policy: policy, random: 0.5)
            == retriedAt.addingTimeInterval(100))
        retried.attempts = 20
        #expect(DeliveryEvents.nextTry(retried, now: retriedAt.addingTimeInterval(3_000), policy: policy, random: 0.5) == nil)
    }
}
