import Crypto
import Foundation

/// The key of event fingerprints (idempotency, SPEC §2): random, made once
/// per queue and kept in the queue store sealed under the encryption keys
/// (`rekey` seals it again like any secret). Fingerprints therefore outlive
/// the encryption key they were made under: retiring an old key does not turn
/// a replayed event into a conflict. Keyed, so that a fingerprint of content
/// holding a password reveals nothing to whoever has the database alone.
public struct FingerprintKey: Sendable {
    /// Stored beside each fingerprint (a queue has one key; a later one would get a new id).
    public let id: String
    /// HMAC keyed and nothing hashed yet: each fingerprint starts from a copy.
    private let mac: HMAC<SHA256>

    /// What the sealed key is stored as (`SealedSecret.purpose`); it belongs to no order.
    public static let purpose = "fingerprint-key"
    public static let orderId = ""

    /// - Parameter secret: base64 of 32 bytes, as made by ``generate()``.
    public init?(_ secret: Secret) {
        guard let bytes = Data(base64Encoded: secret.exposedValue), bytes.count == 32 else { return nil }
        let key = SymmetricKey(data: bytes)
        let digest = SHA256.hash(data: Data("flexpost fingerprint key id".utf8) + bytes)
        self.id = "f" + digest.prefix(4).lowercaseHex
        self.mac = HMAC<SHA256>(key: key)
    }

    /// A fresh random key.
    public static func generate() -> Secret { EncryptionKeyRing.generateKeyText() }

    public func fingerprint(_ canonical: [UInt8]) -> [UInt8] {
        var mac = self.mac
        mac.update(data: canonical)
        return Array(mac.finalize())
    }
}
