import Crypto
import Foundation

/// The keys that seal secrets at rest: the first seals, all of them open
/// (SPEC §4 `FLEXPOST_ENCRYPTION_KEY`, newest first).
public struct EncryptionKeyRing: Sendable {
    /// Why a key configuration is unusable. Never contains key material.
    public struct ConfigurationError: Error, Sendable, CustomStringConvertible {
        public let description: String
    }

    public struct Key: Sendable {
        public let id: String
        let key: SymmetricKey
    }

    public let keys: [Key]
    public var primary: Key { keys[0] }

    /// Parses `base64` (one key) or `id:base64,id:base64` (newest first).
    public init(parsing text: Secret) throws(ConfigurationError) {
        let entries = text.exposedValue.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) }
        guard !entries.isEmpty else { throw ConfigurationError(description: "FLEXPOST_ENCRYPTION_KEY is empty") }
        var keys: [Key] = []
        for (index, entry) in entries.enumerated() {
            let id: String?
            let material: Substring
            if let colon = entry.firstIndex(of: ":") {
                id = String(entry[..<colon])
                material = entry[entry.index(after: colon)...]
            } else {
                id = nil
                material = Substring(entry)
            }
            guard let bytes = Data(base64Encoded: String(material)), bytes.count == 32 else {
                throw ConfigurationError(description:
                    "FLEXPOST_ENCRYPTION_KEY entry \(index + 1) is not base64 of exactly 32 bytes")
            }
            let key = SymmetricKey(data: bytes)
            let keyId = id ?? Self.fingerprint(key)
            guard !keyId.isEmpty, keyId.utf8.allSatisfy({ EmailAddress.isAtext($0) }) else {
                throw ConfigurationError(description: "FLEXPOST_ENCRYPTION_KEY entry \(index + 1) has an invalid key id")
            }
            guard !keys.contains(where: { $0.id == keyId }) else {
                throw ConfigurationError(description: "FLEXPOST_ENCRYPTION_KEY names key id \(keyId) twice")
            }
            keys.append(Key(id: keyId, key: key))
        }
        self.keys = keys
    }

    /// A fresh random key in the configuration format (base64 of 32 bytes).
    public static func generateKeyText() -> Secret {
        Secret(SymmetricKey(size: .bits256).withUnsafeBytes { Data($0).base64EncodedString() })
    }

    /// A short public id for an unnamed key: not reversible to the key.
    static func fingerprint(_ key: SymmetricKey) -> String {
        let digest = key.withUnsafeBytes { SHA256.hash(data: Data("flexpost key id".utf8) + Data($0)) }
        return "k" + digest.prefix(4).lowercaseHex
    }

    func key(id: String) -> Key? { keys.first { $0.id == id } }

    /// The ids of the configured keys, newest first.
    public var ids: [String] { keys.map(\.id) }
}
