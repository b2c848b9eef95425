import Crypto
import Foundation

/// A secret as stored: AES-256-GCM ciphertext and the id of its key.
public struct SealedSecret: Sendable, Equatable {
    public var purpose: String
    public var keyId: String
    /// nonce ‖ ciphertext ‖ tag
    public var ciphertext: [UInt8]

    public init(purpose: String, keyId: String, ciphertext: [UInt8]) {
        self.purpose = purpose
        self.keyId = keyId
        self.ciphertext = ciphertext
    }
}

/// Seals and opens secrets at rest. Each ciphertext is bound to its order,
/// its purpose and its key id (AES-GCM associated data), so a ciphertext
/// copied to another row does not open.
public struct SecretSealer: Sendable {
    /// A sealed secret that cannot be opened. Says nothing about its content.
    public struct OpenError: Error, Sendable, CustomStringConvertible {
        public let purpose: String
        public var description: String { "secret \(purpose) cannot be decrypted (wrong key, or moved between rows)" }
    }

    public let keyRing: EncryptionKeyRing
    /// The queue's fingerprint key; nil until the store has handed it over
    /// (commands that take no events in need none).
    public let fingerprintKey: FingerprintKey?

    public init(keyRing: EncryptionKeyRing, fingerprintKey: FingerprintKey? = nil) {
        self.keyRing = keyRing
        self.fingerprintKey = fingerprintKey
    }

    /// Purposes: the OTP and one access password per site product.
    public static let oneTimePasswordPurpose = "otp"
    public static func accessPasswordPurpose(siteProductId: String) -> String { "access:\(siteProductId)" }

    public func seal(_ secret: Secret, orderId: String, purpose: String) -> SealedSecret {
        let key = keyRing.primary
        let box = try! AES.GCM.seal(
            Data(secret.exposedValue.utf8), using: key.key,
            authenticating: Self.associatedData(orderId: orderId, purpose: purpose, keyId: key.id))
        return SealedSecret(purpose: purpose, keyId: key.id, ciphertext: Array(box.combined!))
    }

    public func open(_ sealed: SealedSecret, orderId: String) throws(OpenError) -> Secret {
        guard let key = keyRing.key(id: sealed.keyId),
            let box = try? AES.GCM.SealedBox(combined: sealed.ciphertext),
            let plain = try? AES.GCM.open(
                box, using: key.key,
                authenticating: Self.associatedData(orderId: orderId, purpose: sealed.purpose, keyId: sealed.keyId)),
            let text = String(data: plain, encoding: .utf8)
        else { throw OpenError(purpose: sealed.purpose) }
        return Secret(text)
    }

    /// Opens a secret and seals it again under the newest key (key rotation).
    public func reseal(_ sealed: SealedSecret, orderId: String) throws(OpenError) -> SealedSecret {
        seal(try open(sealed, orderId: orderId), orderId: orderId, purpose: sealed.purpose)
    }

    /// Seals all secrets of an order.
    public func seal(_ secrets: OrderSecrets, orderId: String) -> [SealedSecret] {
        var sealed: [SealedSecret] = []
        if let otp = secrets.oneTimePassword {
            sealed.append(seal(otp, orderId: orderId, purpose: Self.oneTimePasswordPurpose))
        }
        for (id, password) in secrets.accessPasswords.sorted(by: { $0.key < $1.key }) {
            sealed.append(seal(password, orderId: orderId, purpose: Self.accessPasswordPurpose(siteProductId: id)))
        }
        return sealed
    }

    /// Opens all secrets of an order.
    public func open(_ sealed: [SealedSecret], orderId: String) throws(OpenError) -> OrderSecrets {
        var secrets = OrderSecrets()
        let prefix = Self.accessPasswordPurpose(siteProductId: "")
        for item in sealed {
            let secret = try open(item, orderId: orderId)
            if item.purpose == Self.oneTimePasswordPurpose {
                secrets.oneTimePassword = secret
            } else if item.purpose.hasPrefix(prefix) {
                secrets.accessPasswords[String(item.purpose.dropFirst(prefix.count))] = secret
            }
        }
        return secrets
    }

    /// A keyed fingerprint of an event's content for idempotency: equal
    /// content gives equal fingerprints; without the key it reveals nothing.
    /// - Parameter keyId: the id stored with an earlier fingerprint; nil for
    ///   the current key. nil when that key is not this queue's.
    public func fingerprint(_ canonical: [UInt8], keyId: String? = nil) -> (keyId: String, digest: [UInt8])? {
        guard let key = fingerprintKey, keyId == nil || keyId == key.id else { return nil }
        return (key.id, key.fingerprint(canonical))
    }

    /// Opens the queue's sealed fingerprint key.
    public func openFingerprintKey(_ sealed: SealedSecret) throws(OpenError) -> FingerprintKey {
        guard let key = FingerprintKey(try open(sealed, orderId: FingerprintKey.orderId)) else {
            throw OpenError(purpose: sealed.purpose)
        }
        return key
    }

    /// A new fingerprint key, sealed under the newest encryption key.
    public func sealNewFingerprintKey() -> SealedSecret {
        seal(FingerprintKey.generate(), orderId: FingerprintKey.orderId, purpose: FingerprintKey.purpose)
    }

    static func associatedData(orderId: String, purpose: String, keyId: String) -> Data {
        Data("flexpost/v1\u{0}\(orderId)\u{0}\(purpose)\u{0}\(keyId)".utf8)
    }
}
