import Crypto
import Foundation

/// Signs like the order system (Standard Webhooks), independently of flexpost's verifier.
enum WebhookSigning {
    static func sign(id: String, timestamp: Int64, body: [UInt8], secret: String) -> String {
        let key = SymmetricKey(data: Data(base64Encoded: String(secret.dropFirst("whsec_".count)))!)
        let mac = HMAC<SHA256>.authenticationCode(for: Array("\(id).\(timestamp).".utf8) + body, using: key)
        return "v1," + Data(mac).base64EncodedString()
    }
}
