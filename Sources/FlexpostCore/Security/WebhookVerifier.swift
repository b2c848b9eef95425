import Crypto
import Foundation

/// Standard Webhooks signature verification (SPEC §4): HMAC-SHA256 over
/// `id.timestamp.body` with any of the configured `whsec_` secrets, in
/// constant time, within a tolerance around now (past and future).
public struct WebhookVerifier: Sendable {
    /// Why a request is not authentic. Deliberately terse.
    public enum Failure: Error, Sendable, Equatable {
        case missingHeaders, staleTimestamp, badSignature
    }

    /// Why a secret is unusable.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    /// One HMAC per secret, keyed once, nothing hashed yet: each request starts from a copy.
    private let keys: [HMAC<SHA256>]
    public let tolerance: TimeInterval

    /// - Parameter secrets: space-separated `whsec_<base64>` secrets (rotation).
    public init(secrets: Secret, tolerance: TimeInterval = 300) throws(ConfigurationError) {
        var keys: [HMAC<SHA256>] = []
        for (index, entry) in secrets.exposedValue.split(separator: " ").enumerated() {
            let base64 = entry.hasPrefix("whsec_") ? entry.dropFirst(6) : entry[...]
            guard let data = Data(base64Encoded: String(base64)), data.count >= 16 else {
                throw ConfigurationError(description:
                    "FLEXPOST_WEBHOOK_SECRET entry \(index + 1) must be whsec_ followed by base64 of at least 16 bytes")
            }
            keys.append(HMAC<SHA256>(key: SymmetricKey(data: data)))
        }
        guard !keys.isEmpty else { throw ConfigurationError(description: "FLEXPOST_WEBHOOK_SECRET is empty") }
        self.keys = keys
        self.tolerance = tolerance
    }

    public func verify(id: String?, timestamp: String?, signatures: String?, body: [UInt8], now: Date) throws(Failure) {
        guard let id, let timestamp, let signatures, !id.isEmpty else { throw .missingHeaders }
        guard let seconds = Int64(timestamp), abs(Double(seconds) - now.timeIntervalSince1970) <= tolerance else {
            throw .staleTimestamp
        }
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let candidates = signatures.split(separator: " ").compactMap { entry -> Data? in
            guard entry.hasPrefix("v1,") else { return nil }
            return Data(base64Encoded: String(entry.dropFirst(3)))
        }
        var valid = false
        for key in keys {
            var mac = key
            mac.update(data: signed)
            let code = mac.finalize()
            // `==` between a code and bytes compares in constant time.
            for candidate in candidates where code == candidate {
                valid = true
            }
        }
        guard valid else { throw .badSignature }
    }

    /// Signs like the order system does (used by tests and by `make run`'s example).
    public static func sign(id: String, timestamp: Int64, body: [UInt8], secret: String) -> String? {
        let base64 = secret.hasPrefix("whsec_") ? String(secret.dropFirst(6)) : secret
        guard let data = Data(base64Encoded: base64) else { return nil }
        var signed = Array("\(id).\(timestamp).".utf8)
        signed += body
        let mac = HMAC<SHA256>.authenticationCode(for: signed, using: SymmetricKey(data: data))
        return "v1," + Data(mac).base64EncodedString()
    }
}
