import Foundation

/// SPEC §6 "delivery events out": what the order system is told when a
/// delivery ends. Each is written in the transaction of the state change
/// (``DeliveryEvents``) and posted, signed, at least once (`FLEXPOST_EVENTS_URL`).
public enum DeliveryEventType: String, Sendable, CaseIterable {
    case sent = "delivery.sent"
    case bounced = "delivery.bounced"
    case dead = "delivery.dead"
    case cancelled = "delivery.cancelled"

    /// The event a delivery ending in `state` makes; nil for a state that is not an end.
    public init?(finalState state: DeliveryState) {
        switch state {
        case .sent: self = .sent
        case .bounced: self = .bounced
        case .dead: self = .dead
        case .cancelled: self = .cancelled
        case .scheduled, .sending, .retrying, .held: return nil
        }
    }
}

/// One event as the store keeps it until the order system has taken it.
public struct DeliveryEventRecord: Sendable, Equatable {
    /// Standard Webhooks' `webhook-id`: the same on every retry. A delivery
    /// ends each way at most once, so the delivery and the type name it.
    public var webhookId: String
    public var deliveryId: Int64
    public var type: DeliveryEventType
    public var at: Date
    /// The SMTP reply (`sent`, `dead`) or the bounce's status code (`bounced`).
    public var detail: String?

    public init(deliveryId: Int64, type: DeliveryEventType, at: Date, detail: String?) {
        self.webhookId = "msg_delivery_\(deliveryId)_\(type.rawValue.dropFirst("delivery.".count))"
        self.deliveryId = deliveryId
        self.type = type
        self.at = at
        self.detail = detail
    }

    public init(webhookId: String, deliveryId: Int64, type: DeliveryEventType, at: Date, detail: String?) {
        self.webhookId = webhookId
        self.deliveryId = deliveryId
        self.type = type
        self.at = at
        self.detail = detail
    }
}

/// An event due to be posted, claimed with the facts its body names.
public struct PendingDeliveryEvent: Sendable, Equatable {
    public var record: DeliveryEventRecord
    /// Failed posts so far.
    public var attempts: Int
    public var orderId: String
    public var customerNumber: String
    public var kind: DeliveryKind
    /// Empty after the order's personal data was erased (SPEC §8).
    public var recipient: String
    /// When an operator had the event posted again after it was given up
    /// (`flexpost retry-events`): its new retry lifetime counts from then.
    public var retriedAt: Date?

    public init(record: DeliveryEventRecord, attempts: Int, orderId: String, customerNumber: String, kind: DeliveryKind,
                recipient: String, retriedAt: Date? = nil) {
        self.record = record
        self.attempts = attempts
        self.orderId = orderId
        self.customerNumber = customerNumber
        self.kind = kind
        self.recipient = recipient
        self.retriedAt = retriedAt
    }
}

/// An event given up after the retry lifetime, as an operator sees it before
/// having it posted again.
public struct GivenUpDeliveryEvent: Sendable, Equatable {
    public var record: DeliveryEventRecord
    public var orderId: String
    /// Failed posts.
    public var attempts: Int
    /// Why the last post failed (the HTTP status or the connection's error).
    public var lastError: String?

    public init(record: DeliveryEventRecord, orderId: String, attempts: Int, lastError: String?) {
        self.record = record
        self.orderId = orderId
        self.attempts = attempts
        self.lastError = lastError
    }
}

/// The rules of delivery events: which changes make one, its body, when a
/// failed post is tried again. Pure.
public enum DeliveryEvents {
    /// The decision's changes, plus one event for every delivery a change
    /// ends; a bounce's event carries its status code.
    public static func adding(to changes: [QueueChange]) -> [QueueChange] {
        var events: [QueueChange] = []
        for change in changes {
            guard case .finish(let deliveryIds, let state, let at) = change, let type = DeliveryEventType(finalState: state)
            else { continue }
            for id in deliveryIds {
                let status = changes.lazy.compactMap { change -> String? in
                    guard case .recordBounce(_, id, _, _, let status, _) = change else { return nil }
                    return status
                }.first
                events.append(.emitDeliveryEvent(DeliveryEventRecord(deliveryId: id, type: type, at: at,
                                                                     detail: type == .bounced ? status : nil)))
            }
        }
        return changes + events
    }

    /// The event an attempt's result makes: `sent` or `dead` with the reply.
    public static func event(for completed: CompletedAttempt) -> DeliveryEventRecord? {
        let attempt = completed.attempt
        guard let type = DeliveryEventType(finalState: attempt.nextState) else { return nil }
        let reply = attempt.replyCode.map { "\($0) \(attempt.reply)" } ?? attempt.reply
        return DeliveryEventRecord(deliveryId: completed.deliveryId, type: type, at: attempt.finishedAt, detail: reply)
    }

    /// The request body (Standard Webhooks' `type`, `timestamp`, `data`): no secrets.
    public static func body(_ event: PendingDeliveryEvent) -> [UInt8] {
        var data: [String: Any] = [
            "orderId": event.orderId, "customerNumber": event.customerNumber, "deliveryId": event.record.deliveryId,
            "kind": event.kind.rawValue, "recipient": event.recipient, "at": RFC3339.format(event.record.at),
        ]
        if let detail = event.record.detail {
            data[event.record.type == .bounced ? "status" : "reply"] = detail
        }
        return CanonicalJSON.bytes([
            "type": event.record.type.rawValue, "timestamp": RFC3339.format(event.record.at), "data": data,
        ] as [String: Any])
    }

    /// The backoff of failed posts: as webhook senders do, the first retry
    /// comes soon (5 s; a receiver restarting is back by then), then doubling
    /// to an hour, over `FLEXPOST_RETRY_LIFETIME` like the mail.
    public static func retryPolicy(lifetime: TimeInterval) -> RetryPolicy {
        RetryPolicy(firstDelay: 5, maximumDelay: 3_600, lifetime: lifetime)
    }

    /// When a failed post is tried again (``retryPolicy(lifetime:)``), counted
    /// from the event, or from when it was posted again after it was given up;
    /// nil when the lifetime is over (the event failed).
    public static func nextTry(_ event: PendingDeliveryEvent, now: Date, policy: RetryPolicy, random: Double) -> Date? {
        policy.nextAttempt(after: event.attempts + 1, now: now, firstDue: event.retriedAt ?? event.record.at, random: random)
    }
}

/// Where a delivery event stands in the store: waiting (`pending`), or given
/// up after the retry lifetime (`failed`; an operator may have it posted
/// again, pending with a new lifetime). One the order system took is deleted.
public enum DeliveryEventState: String, Sendable, CaseIterable {
    case pending, failed
}
