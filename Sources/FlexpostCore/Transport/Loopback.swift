/// Whether a host is this machine: `localhost`, `::1`, or an IPv4 literal in
/// 127.0.0.0/8. Only there may flexpost talk without TLS or without
/// verification. A name that merely starts with `127.` (`127.relay.example`)
/// is a name like any other and is resolved elsewhere.
public enum Loopback {
    /// - Parameter host: as in a URL; brackets around an IPv6 literal are allowed.
    public static func contains(host: String) -> Bool {
        var name = host.lowercased()
        if name.hasPrefix("[") && name.hasSuffix("]") { name = String(name.dropFirst().dropLast()) }
        if name == "localhost" || name == "localhost." || name == "::1" { return true }
        guard let octets = ipv4(name) else { return false }
        return octets[0] == 127
    }

    /// The four octets of a dotted-decimal IPv4 literal (`127.0.0.1`), nil for anything else.
    static func ipv4(_ text: String) -> [Int]? {
        let parts = text.split(separator: ".", omittingEmptySubsequences: false)
        guard parts.count == 4 else { return nil }
        var octets: [Int] = []
        for part in parts {
            guard !part.isEmpty, part.count <= 3, part.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
                let value = Int(part), value <= 255
            else { return nil }
            octets.append(value)
        }
        return octets
    }
}
