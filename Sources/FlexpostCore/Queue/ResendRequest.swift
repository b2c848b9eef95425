import Foundation

/// A support agent's request to send an order's mail again (R7).
public struct ResendRequest: Sendable, Equatable {
    public var orderId: String
    public var kind: DeliveryKind
    public var actor: String
    public var reason: String
    public init(orderId: String, kind: DeliveryKind, actor: String, reason: String) {
        self.orderId = orderId
        self.kind = kind
        self.actor = actor
        self.reason = reason
    }

    /// The rule for the actor and the reason a resend records, wherever the
    /// request comes from (CLI, API, console): present, at most 500
    /// characters, no control characters (they end up in the history and in
    /// log lines).
    /// - Parameter field: the name to report (`reason`, `--actor`).
    public static func recordedText(_ value: String?, field: String) throws(EventRejection) -> String {
        guard let text = value, !text.trimmingCharacters(in: .whitespaces).isEmpty else {
            throw EventRejection(field: field, rule: "is required")
        }
        guard text.count <= 500 else { throw EventRejection(field: field, rule: "must be at most 500 characters") }
        guard !text.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value <= 0x9F) }) else {
            throw EventRejection(field: field, rule: "must not contain control characters")
        }
        return text
    }
}
