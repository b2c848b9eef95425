/// An envelope-safe e-mail address: a strict subset of RFC 5321 that SMTP
/// commands and RFC 5322 headers can carry without quoting or encoding.
///
/// Local part: dot-atom of ASCII `atext`, at most 64 octets. Domain: LDH labels
/// of at most 63 octets, at least two labels, at most 253 octets in all.
/// Non-ASCII local parts are refused; a non-ASCII domain is refused too
/// (flexpost does not carry an IDNA table: send A-labels, `xn--…`).
public struct EmailAddress: Sendable, Hashable, Codable, CustomStringConvertible {
    public let value: String

    public init(validating text: String) throws(EmailAddressError) {
        guard text.utf8.count <= 254 else { throw .tooLong }
        guard let at = text.lastIndex(of: "@") else { throw .missingAt }
        let local = text[..<at]
        let domain = text[text.index(after: at)...]
        guard !local.isEmpty, local.utf8.count <= 64 else { throw .badLocalPart }
        for byte in local.utf8 where !Self.isAtext(byte) && byte != UInt8(ascii: ".") {
            throw byte >= 0x80 ? .nonASCII : .badLocalPart
        }
        if local.hasPrefix(".") || local.hasSuffix(".") || local.contains("..") { throw .badLocalPart }
        guard !domain.isEmpty, domain.utf8.count <= 253 else { throw .badDomain }
        let labels = domain.split(separator: ".", omittingEmptySubsequences: false)
        guard labels.count >= 2 else { throw .badDomain }
        for label in labels {
            guard !label.isEmpty, label.utf8.count <= 63 else { throw .badDomain }
            for byte in label.utf8 {
                if byte >= 0x80 { throw .nonASCII }
                let ldh = (byte >= 0x30 && byte <= 0x39) || (byte >= 0x41 && byte <= 0x5A)
                    || (byte >= 0x61 && byte <= 0x7A) || byte == UInt8(ascii: "-")
                guard ldh else { throw .badDomain }
            }
            if label.hasPrefix("-") || label.hasSuffix("-") { throw .badDomain }
        }
        self.value = text
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
        default:
            return "!#$%&'*+-/=?^_`{|}~".utf8.contains(byte)
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
