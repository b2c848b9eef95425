import FlexpostCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// SPEC §6 delivery events out, under `serve`: posts the events the store
/// holds, signed (Standard Webhooks), at least once. A 2xx answer deletes
/// the event; anything else is tried again with backoff
/// (``DeliveryEvents/retryPolicy(lifetime:)``: 5 s, doubling to an hour)
/// until the retry lifetime is over, always with the same `webhook-id`. Several `serve`
/// share the work: a claimed event is leased, and one whose process died is
/// taken again when its lease runs out.
public struct DeliveryEventSender: Service {
    let store: any DeliveryEventOutbox
    let transport: any EventTransport
    let signer: WebhookSigner
    let policy: RetryPolicy
    let clock: any WallClock
    let logger: Logger
    /// How long a claimed event is this process's (posts time out well before).
    var lease: TimeInterval = 120
    /// Events posted at once.
    var batch = 16
    /// How often the store is asked when nothing was due.
    var poll: Duration
    var random: @Sendable () -> Double = { Double.random(in: 0..<1) }

    public init(store: any DeliveryEventOutbox, transport: any EventTransport, signer: WebhookSigner, policy: RetryPolicy,
                clock: any WallClock, logger: Logger, poll: Duration = .seconds(1)) {
        self.store = store
        self.transport = transport
        self.signer = signer
        self.policy = policy
        self.clock = clock
        self.logger = logger
        self.poll = poll
    }

    public func run() async throws {
        await Periodic(interval: poll, backoff: (poll, .seconds(60))).run({
            // A full batch: more may be due, at once.
            try await pass().claimed == batch ? .zero : nil
        }, failed: { error, _, wait in
            logger.error("delivery events: the queue store failed", metadata: [
                "error": "\(error)", "retry.in": "\(Backoff.text(wait))",
            ])
        })
    }

    /// Posts the events due now; answers how many were claimed and how many the order system took.
    @discardableResult
    public func pass() async throws -> (claimed: Int, taken: Int) {
        let now = clock.now()
        let events = try await store.claimDeliveryEvents(at: now, leaseUntil: now.addingTimeInterval(lease), limit: batch)
        let taken = try await withThrowingTaskGroup(of: Bool.self) { group in
            for event in events {
                group.addTask { try await post(event) }
            }
            return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
        }
        return (events.count, taken)
    }

    /// Posts one event; answers whether the order system took it.
    func post(_ event: PendingDeliveryEvent) async throws -> Bool {
        let body = DeliveryEvents.body(event)
        let now = clock.now()
        let headers = signer.headers(id: event.record.webhookId, timestamp: Int64(now.timeIntervalSince1970), body: body)
            + [("content-type", "application/json")]
        let failure: String
        do {
            let status = try await transport.post(body: body, headers: headers)
            if (200..<300).contains(status) {
                try await store.deliveryEventDelivered(webhookId: event.record.webhookId)
                Counter(label: "flexpost_delivery_events_posted_total", dimensions: [("type", event.record.type.rawValue)])
                    .increment()
                logger.debug("delivery event posted", metadata: Self.metadata(event, ["http.status": "\(status)"]))
                return true
            }
            failure = "HTTP \(status)"
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            failure = "\(error)"
        }
        let next = DeliveryEvents.nextTry(event, now: now, policy: policy, random: random())
        try await store.deliveryEventFailed(webhookId: event.record.webhookId, nextAt: next, error: failure)
        Counter(label: "flexpost_delivery_event_failures_total").increment()
        let metadata = Self.metadata(event, ["error": "\(failure)", "event.attempts": "\(event.attempts + 1)"])
        if let next {
            logger.warning("delivery event not taken; tried again later",
                           metadata: metadata.merging(["retry.at": "\(RFC3339.format(next))"]) { $1 })
        } else {
            logger.error("delivery event given up: the retry lifetime is over", metadata: metadata)
        }
        return false
    }

    static func metadata(_ event: PendingDeliveryEvent, _ more: Logger.Metadata) -> Logger.Metadata {
        more.merging([
            "webhook.id": "\(event.record.webhookId)", "event.type": "\(event.record.type.rawValue)",
            "delivery.id": "\(event.record.deliveryId)", "order.id": "\(event.orderId)",
        ]) { $1 }
    }
}
