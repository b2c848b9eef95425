import Crypto
import Foundation

/// Standard Webhooks signing of what flexpost sends (SPEC §6 delivery
/// events): `webhook-signature: v1,<base64 HMAC-SHA256 of id.timestamp.body>`
/// under the `whsec_` secret of `FLEXPOST_EVENTS_SECRET`. The mirror of
/// ``WebhookVerifier``.
public struct WebhookSigner: Sendable {
    /// One HMAC keyed once; each signature starts from a copy.
    private let key: HMAC<SHA256>

    public init(secret: Secret, variable: String = "FLEXPOST_EVENTS_SECRET") throws(WebhookVerifier.ConfigurationError) {
        let text = secret.exposedValue
        let base64 = text.hasPrefix("whsec_") ? String(text.dropFirst(6)) : text
        guard let data = Data(base64Encoded: base64), data.count >= 16 else {
            throw WebhookVerifier.ConfigurationError(description: "\(variable) must be whsec_ followed by base64 of at least 16 bytes")
        }
        key = HMAC<SHA256>(key: SymmetricKey(data: data))
    }

    /// The signature header's value for one request.
    public func signature(id: String, timestamp: Int64, body: [UInt8]) -> String {
        var mac = key
        mac.update(data: Array("\(id).\(timestamp).".utf8))
        mac.update(data: body)
        return "v1," + Data(mac.finalize()).base64EncodedString()
    }

    /// The headers of one signed request: `webhook-id`, `webhook-timestamp`, `webhook-signature`.
    public func headers(id: String, timestamp: Int64, body: [UInt8]) -> [(name: String, value: String)] {
        [("webhook-id", id), ("webhook-timestamp", String(timestamp)),
         ("webhook-signature", signature(id: id, timestamp: timestamp, body: body))]
    }
}
