import Foundation

/// A delivery as support sees it: states, recipients, times; never a secret.
public struct DeliveryView: Codable, Sendable {
    public var id: Int64
    public var orderId: String
    public var kind: String
    public var state: String
    public var recipient: String
    public var recipientName: String
    public var language: String
    public var dueAt: String
    public var sentAt: String?
    public var attempts: Int
    public var messageId: String
    public var lastCode: Int?
    public var lastReply: String?

    public init(_ d: Delivery) {
        id = d.id
        orderId = d.orderId
        kind = d.kind.rawValue
        state = d.state.rawValue
        recipient = d.recipient.email.value
        recipientName = d.recipient.name
        language = d.language.rawValue
        dueAt = RFC3339.format(d.dueAt)
        sentAt = d.sentAt.map(RFC3339.format)
        attempts = d.attempts
        messageId = d.messageID
        lastCode = d.lastCode
        lastReply = d.lastReply
    }

    /// The text line of `status` and `list`, times in local time (SPEC §7).
    public func line(_ time: LocalDisplayTime) -> String {
        let sent = sentAt.map { " sent \(time.format(rfc3339: $0))" } ?? ""
        let reply = lastCode.map { " last \($0)" } ?? ""
        return "\(id)\t\(orderId)\t\(kind)\t\(state)\t\(recipient.isEmpty ? "(erased)" : recipient)"
            + "\tdue \(time.format(rfc3339: dueAt))\(sent)\tattempts \(attempts)\(reply)"
    }
}

/// Everything `status` shows of one order.
public struct OrderReport: Codable, Sendable {
    public struct Attempt: Codable, Sendable {
        public var deliveryId: Int64
        public var startedAt: String
        public var finishedAt: String
        public var outcome: String
        public var replyCode: Int?
        public var reply: String
    }
    public struct Event: Codable, Sendable {
        public var at: String
        public var actor: String
        public var action: String
        public var detail: String
    }

    public var orderId: String
    public var customerNumber: String
    public var portalActive: Bool
    public var cancelled: Bool
    public var secretsPurged: Bool
    /// When the order's personal data was erased (SPEC §8); absent while it is kept.
    public var personalDataErasedAt: String?
    public var deliveries: [DeliveryView]
    public var attempts: [Attempt]
    public var history: [Event]

    public static func load(orderId: String, store: any QueueStore) async throws -> OrderReport? {
        guard let stored = try await store.storedOrder(orderId) else { return nil }
        return OrderReport(
            orderId: orderId, customerNumber: stored.customerNumber, portalActive: stored.portalActive,
            cancelled: stored.cancelled, secretsPurged: stored.secretsPurged,
            personalDataErasedAt: stored.personalDataErasedAt.map(RFC3339.format),
            deliveries: try await store.deliveries(orderId: orderId).map(DeliveryView.init),
            attempts: try await store.attempts(orderId: orderId).map {
                Attempt(deliveryId: $0.deliveryId, startedAt: RFC3339.format($0.startedAt),
                        finishedAt: RFC3339.format($0.finishedAt), outcome: $0.outcome.rawValue,
                        replyCode: $0.replyCode, reply: $0.reply)
            },
            history: try await store.history(orderId: orderId).map {
                Event(at: RFC3339.format($0.at), actor: $0.actor, action: $0.action.rawValue, detail: $0.detail)
            })
    }

    public static func encode(_ value: some Encodable) throws -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .prettyPrinted, .withoutEscapingSlashes]
        return String(decoding: try encoder.encode(value), as: UTF8.self)
    }

    public func json() throws -> String { try Self.encode(self) }

    /// What `status` prints, times in local time (SPEC §7; `--json` keeps RFC 3339 UTC).
    public func text(_ time: LocalDisplayTime) -> String {
        var lines = ["order \(orderId)  customer \(customerNumber)  portal \(portalActive ? "active" : "pending")"
            + (cancelled ? "  cancelled" : "") + (secretsPurged ? "  secrets purged" : "")
            + (personalDataErasedAt.map { "  personal data erased on \(time.format(rfc3339: $0))" } ?? "")]
        lines.append("deliveries:")
        lines += deliveries.map { "  " + $0.line(time) }
        if !attempts.isEmpty {
            lines.append("attempts:")
            lines += attempts.map {
                "  \($0.deliveryId)\t\(time.format(rfc3339: $0.finishedAt))\t\($0.outcome)\t\($0.replyCode.map(String.init) ?? "-")\t\($0.reply)"
            }
        }
        lines.append("history:")
        lines += history.map { "  \(time.format(rfc3339: $0.at))\t\($0.actor)\t\($0.action)\t\($0.detail)" }
        return lines.joined(separator: "\n")
    }
}
