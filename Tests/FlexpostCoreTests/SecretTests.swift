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

    @Test("event fingerprints: HMAC-SHA256 under an HKDF-derived key, the same bytes as every earlier build stored")
    func fingerprintDerivation() throws {
        let ring = try EncryptionKeyRing(parsing: Secret("k7:" + Data((0..<32).map { UInt8($0) }).base64EncodedString()))
        let fingerprint = try #require(SecretSealer(keyRing: ring).fingerprint(Array(#"{"orderId":"ORD-1"}"#.utf8)))
        #expect(fingerprint.keyId == "k7")
        // Computed independently (RFC 5869 HKDF, info "flexpost event fingerprint", then HMAC) with Python's hmac.
        let hex = fingerprint.digest.map { (byte: UInt8) -> String in
            let digits = String(byte, radix: 16)
            return digits.count == 1 ? "0" + digits : digits
        }.joined()
        #expect(hex == "15e8a3f4916ecea55ec67b4ab9686afaf9181e75e50863d555229bbb21766ab9")
    }

    @Test("a ciphertext moved to another order or purpose does not open")
    func boundToRow() {
        let sealer = SecretSealer(keyRing: keyRing)
        let sealed = sealer.seal(Secret("Zr5m-Pq8d-Yc1v"), orderId: "ORD-1", purpose: "access:SP-1")
        #expect(throws: SecretSealer.OpenError.self) { try sealer.open(sealed, orderId: "ORD-2") }
        var moved = sealed
        moved.purpose = "otp"
        #expect(throws: SecretSealer.OpenError.self) { try sealer.open(moved, orderId: "ORD-1") }
    }

    @Test("key configuration errors name the entry, never the key")
    func keyErrors() {
        for text in ["", "not-base64", "k1:" + Data(count: 16).base64EncodedString(), "a b:" + Data(count: 32).base64EncodedString()] {
            #expect(throws: EncryptionKeyRing.ConfigurationError.self) { try EncryptionKeyRing(parsing: Secret(text)) }
        }
        let generated = EncryptionKeyRing.generateKeyText()
        #expect(Data(base64Encoded: generated.exposedValue)?.count == 32)
    }

    @Test("fingerprints: equal content equal, other content or key different")
    func fingerprints() {
        let sealer = SecretSealer(keyRing: keyRing)
        let a = sealer.fingerprint(Array("{\"a\":1}".utf8))!
        #expect(a.keyId == "k2")
        #expect(sealer.fingerprint(Array("{\"a\":1}".utf8))!.digest == a.digest)
        #expect(sealer.fingerprint(Array("{\"a\":2}".utf8))!.digest != a.digest)
        #expect(sealer.fingerprint(Array("{\"a\":1}".utf8), keyId: "k1")!.digest != a.digest)
    }
}
