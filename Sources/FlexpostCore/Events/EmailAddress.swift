/// An envelope-safe e-mail address: a strict subset of RFC 5321 that SMTP
/// commands and RFC 5322 headers can carry without quoting or encoding.
///
/// Local part: dot-atom of ASCII `atext`, at most 64 octets. Domain: LDH labels
/// of at most 63 octets, at least two labels, at most 253 octets in all.
/// Non-ASCII local parts are refused; a non-ASCII domain is refused too
/// (flexpost does not carry an IDNA table: send A-labels, `xn--…`).
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    private init(unchecked value: String) { self.value = value }

    /// What is left of an address after personal-data erasure (SPEC §8): empty,
    /// never a recipient (its deliveries were ended before it was erased).
    public static let erased = EmailAddress(unchecked: "")

    public var isErased: Bool { value.isEmpty }

    public init(validating text: String) throws(EmailAddressError) {
        var text = text
        let failure: EmailAddressError? = text.withUTF8 { bytes in
            do throws(EmailAddressError) { try Self.check(bytes) } catch { return error }
            return nil
        }
        if let failure { throw failure }
        self.value = text
    }

    /// One pass over the octets; the rules are listed on the type.
    private static func check(_ bytes: UnsafeBufferPointer<UInt8>) throws(EmailAddressError) {
        guard bytes.count <= 254 else { throw .tooLong }
        guard let at = bytes.lastIndex(of: UInt8(ascii: "@")) else { throw .missingAt }
        let dot = UInt8(ascii: ".")
        let local = UnsafeBufferPointer(rebasing: bytes[..<at])
        guard !local.isEmpty, local.count <= 64 else { throw .badLocalPart }
        var previous: UInt8 = dot
        for byte in local {
            guard isAtext(byte) || byte == dot else { throw byte >= 0x80 ? .nonASCII : .badLocalPart }
            // A leading dot or two dots in a row.
            if byte == dot && previous == dot { throw .badLocalPart }
            previous = byte
        }
        if previous == dot { throw .badLocalPart }
        let domain = UnsafeBufferPointer(rebasing: bytes[(at + 1)...])
        guard !domain.isEmpty, domain.count <= 253 else { throw .badDomain }
        var labels = 0
        var start = domain.startIndex
        while true {
            let end = domain[start...].firstIndex(of: dot) ?? domain.endIndex
            let label = domain[start..<end]
            guard !label.isEmpty, label.count <= 63 else { throw .badDomain }
            for byte in label {
                if byte >= 0x80 { throw .nonASCII }
                let ldh = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-")
                guard ldh else { throw .badDomain }
            }
            if label.first == UInt8(ascii: "-") || label.last == UInt8(ascii: "-") { throw .badDomain }
            labels += 1
            guard end < domain.endIndex else { break }
            start = end + 1
        }
        guard labels >= 2 else { throw .badDomain }
    }

    public init(from decoder: any Decoder) throws {
        let text = try decoder.singleValueContainer().decode(String.self)
        do { try self.init(validating: text) } catch {
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: error.rule))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(value)
    }

    public var domain: String { String(value[value.index(after: value.lastIndex(of: "@")!)...]) }
    public var description: String { value }

    /// RFC 5322 `atext`.
    static func isAtext(_ byte: UInt8) -> Bool {
        switch byte {
        case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
            UInt8(ascii: "0")...UInt8(ascii: "9"):
            return true
        case UInt8(ascii: "!"), UInt8(ascii: "#"), UInt8(ascii: "$"), UInt8(ascii: "%"), UInt8(ascii: "&"),
            UInt8(ascii: "'"), UInt8(ascii: "*"), UInt8(ascii: "+"), UInt8(ascii: "-"), UInt8(ascii: "/"),
            UInt8(ascii: "="), UInt8(ascii: "?"), UInt8(ascii: "^"), UInt8(ascii: "_"), UInt8(ascii: "`"),
            UInt8(ascii: "{"), UInt8(ascii: "|"), UInt8(ascii: "}"), UInt8(ascii: "~"):
            return true
        default:
            return false
        }
    }
}

/// Why a text is not an acceptable e-mail address.
public enum EmailAddressError: Error, Sendable, Equatable {
    case tooLong, missingAt, badLocalPart, badDomain, nonASCII

    /// The rule that was broken, for error messages (never echoes the address).
    public var rule: String {
        switch self {
        case .tooLong: "e-mail address longer than 254 characters"
        case .missingAt: "e-mail address without '@'"
        case .badLocalPart: "e-mail local part must be a dot-atom of at most 64 ASCII characters"
        case .badDomain: "e-mail domain must be at least two letter-digit-hyphen labels"
        case .nonASCII: "e-mail address must be ASCII (internationalised domains as xn-- A-labels)"
        }
    }
}
