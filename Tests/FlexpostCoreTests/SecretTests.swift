import Crypto
import FlexpostCore
import Foundation
import Testing

/// Secrets have their own type, are sealed bound to their row, and never print.
@Suite("secrets")
struct SecretTests {
    let keyRing = try! EncryptionKeyRing(parsing: Secret("k2:" + Data(repeating: 7, count: 32).base64EncodedString()
        + ",k1:" + Data(repeating: 9, count: 32).base64EncodedString()))

    @Test("a secret never shows its value in descriptions, interpolation, dumps or reflection")
    func redacted() {
        let secret = Secret("s7Qp-Lx2r-9vTm")
        var dumped = ""
        dump(secret, to: &dumped)
        let order = OrderSecrets(oneTimePassword: secret, accessPasswords: ["SP-1": secret])
        var dumpedOrder = ""
        dump(order, to: &dumpedOrder)
        for text in ["\(secret)", String(describing: secret), String(reflecting: secret), dumped, "\(order)", dumpedOrder,
                     "\(Mirror(reflecting: secret).children.map { "\($0.value)" })"] {
            #expect(!text.contains("s7Qp"), "leaked in: \(text)")
        }
        #expect(secret.exposedValue == "s7Qp-Lx2r-9vTm")
    }

    @Test("sealed with AES-GCM under the newest key; opens; the ciphertext holds no plaintext")
    func sealAndOpen() throws {
        let sealer = SecretSealer(keyRing: keyRing)
        let sealed = sealer.seal(Secret("Zr5m-Pq8d-Yc1v"), orderId: "ORD-1", purpose: "access:SP-1")
        #expect(sealed.keyId == "k2")
        #expect(!String(decoding: sealed.ciphertext, as: UTF8.self).contains("Zr5m"))
        #expect(try sealer.open(sealed, orderId: "ORD-1").exposedValue == "Zr5m-Pq8d-Yc1v")
        // Older keys stay readable.
        let old = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret("k1:" + Data(repeating: 9, count: 32).base64EncodedString())))
        let byOld = old.seal(Secret("old"), orderId: "ORD-1", purpose: "otp")
        #expect(try sealer.open(byOld, orderId: "ORD-1").exposedValue == "old")
    }

    @Test("event fingerprints: HMAC-SHA256 under the queue's own fingerprint key, computed independently")
    func fingerprintDerivation() throws {
        let key = try #require(FingerprintKey(Secret(Data((0..<32).map { UInt8($0) }).base64EncodedString())))
        let sealer = SecretSealer(keyRing: keyRing, fingerprintKey: key)
        let fingerprint = try #require(sealer.fingerprint(Array(#"{"orderId":"ORD-1"}"#.utf8)))
        // Python: hmac.new(bytes(range(32)), b'{"orderId":"ORD-1"}', sha256); the id from sha256("flexpost fingerprint key id" + key).
        #expect(fingerprint.keyId == "f6f3e5904")
        let hex = fingerprint.digest.map { (byte: UInt8) -> String in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        #expect(hex == "186d2f510dd0effffdd0ba902f0cb958176c498b70b5528a6a1281245bf14507")
        let generated = EncryptionKeyRing.generateKeyText()
        #expect(Data(base64Encoded: generated.exposedValue)?.count == 32)
    }

    @Test("the fingerprint key is sealed under the encryption keys; a rotation reseals it and fingerprints stay the same")
    func fingerprintKeySealed() throws {
        let old = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret("k1:" + Data(repeating: 9, count: 32).base64EncodedString())))
        let sealed = old.sealNewFingerprintKey()
        #expect(sealed.keyId == "k1" && sealed.purpose == FingerprintKey.purpose)
        let before = try old.openFingerprintKey(sealed)
        let both = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret(
            "k2:" + Data(repeating: 8, count: 32).base64EncodedString() + ",k1:" + Data(repeating: 9, count: 32).base64EncodedString())))
        let resealed = try both.reseal(sealed, orderId: FingerprintKey.orderId)
        let onlyNew = SecretSealer(keyRing: try EncryptionKeyRing(parsing: Secret("k2:" + Data(repeating: 8, count: 32).base64EncodedString())))
        let after = try onlyNew.openFingerprintKey(resealed)
        #expect(after.id == before.id)
        #expect(after.fingerprint(Array("{}".utf8)) == before.fingerprint(Array("{}".utf8)))
        #expect(throws: SecretSealer.OpenError.self) { try onlyNew.openFingerprintKey(sealed) }
    }

    @Test("fingerprints: equal content equal, other content or key different; none without the queue's key")
    func fingerprints() throws {
        let key = try #require(FingerprintKey(FingerprintKey.generate()))
        let sealer = SecretSealer(keyRing: keyRing, fingerprintKey: key)
        let a = try #require(sealer.fingerprint(Array("{\"a\":1}".utf8)))
        #expect(a.keyId == key.id)
        #expect(sealer.fingerprint(Array("{\"a\":1}".utf8), keyId: key.id)?.digest == a.digest)
        #expect(sealer.fingerprint(Array("{\"a\":2}".utf8))?.digest != a.digest)
        let other = SecretSealer(keyRing: keyRing, fingerprintKey: try #require(FingerprintKey(FingerprintKey.generate())))
        #expect(other.fingerprint(Array("{\"a\":1}".utf8))?.digest != a.digest)
        #expect(other.fingerprint(Array("{\"a\":1}".utf8), keyId: key.id) == nil, "another queue's key id")
        #expect(SecretSealer(keyRing: keyRing).fingerprint(Array("{\"a\":1}".utf8)) == nil)
    }
}
