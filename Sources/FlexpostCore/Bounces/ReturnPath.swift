import Foundation

/// VERP (SPEC §6): each delivery's envelope sender is
/// `bounces+<id>-<mac>@domain`, so a bounce names the delivery it belongs
/// to. The MAC is the queue's keyed fingerprint HMAC over the delivery id
/// (domain-separated), cut to 80 bits in base32: a made-up or altered token
/// matches nothing. The whole local part stays far below 64 octets.
public struct ReturnPath: Sendable {
    public let base: EmailAddress
    let key: FingerprintKey
    let localPart: Substring
    let domain: Substring

    public init(base: EmailAddress, key: FingerprintKey) {
        self.base = base
        self.key = key
        let at = base.value.lastIndex(of: "@")!
        self.localPart = base.value[..<at]
        self.domain = base.value[base.value.index(after: at)...]
    }

    /// The envelope sender of one delivery.
    public func address(for deliveryId: Int64) -> EmailAddress {
        // Valid by construction: atext local part, the configured domain.
        try! EmailAddress(validating: "\(localPart)+\(deliveryId)-\(mac(deliveryId))@\(domain)")
    }

    /// The delivery an address names, when its token is authentic.
    public func deliveryId(in address: String) -> Int64? {
        guard let at = address.lastIndex(of: "@"), address[address.index(after: at)...].lowercased() == domain.lowercased()
        else { return nil }
        let local = address[..<at]
        let prefix = localPart + "+"
        guard local.lowercased().hasPrefix(prefix.lowercased()) else { return nil }
        let token = local.dropFirst(prefix.count)
        guard let dash = token.firstIndex(of: "-"), let id = Int64(token[..<dash]), id > 0 else { return nil }
        // Some servers lowercase the local part; the token is lowercase base32 already.
        return token[token.index(after: dash)...].lowercased() == mac(id) ? id : nil
    }

    func mac(_ deliveryId: Int64) -> String {
        let digest = key.fingerprint(Array("flexpost verp v1:\(deliveryId)".utf8)).prefix(10)
        return Self.base32(Array(digest))
    }

    static func base32(_ bytes: [UInt8]) -> String {
        let alphabet = Array("abcdefghijklmnopqrstuvwxyz234567")
        var output = "", buffer = 0, bits = 0
        for byte in bytes {
            buffer = buffer << 8 | Int(byte)
            bits += 8
            while bits >= 5 {
                output.append(alphabet[(buffer >> (bits - 5)) & 31])
                bits -= 5
            }
        }
        if bits > 0 { output.append(alphabet[(buffer << (5 - bits)) & 31]) }
        return output
    }
}
