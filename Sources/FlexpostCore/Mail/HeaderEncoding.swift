import Foundation

/// Header values that cannot inject a header or break RFC 5322: refused when
/// they hold control characters, RFC 2047-encoded when they are not ASCII,
/// folded so that no line exceeds 78 characters where avoidable.
public enum HeaderEncoding {
    /// Why a header value was refused.
    public struct InvalidHeaderValue: Error, Sendable, Equatable, CustomStringConvertible {
        public let header: String
        public var description: String { "\(header): header value must not contain CR, LF or control characters" }
    }

    /// Bytes of UTF-8 per encoded word: 39 bytes → 52 base64 characters → words of 64.
    static let bytesPerWord = 39

    public static func checkNoControls(_ value: String, header: String) throws(InvalidHeaderValue) {
        if ControlCharacters.contained(in: value) { throw InvalidHeaderValue(header: header) }
    }

    /// An unstructured value (Subject): as is when it is short printable ASCII,
    /// otherwise a folded run of `=?utf-8?B?…?=` words.
    public static func unstructured(_ value: String, header: String) throws(InvalidHeaderValue) -> String {
        try checkNoControls(value, header: header)
        if value.unicodeScalars.allSatisfy({ $0.isASCII }) && value.utf8.count + header.count + 2 <= 78
            && !value.containsEncodedWordOpener
        {
            return value
        }
        return encodedWords(value)
    }

    /// A display name for an address header: an atom phrase, a quoted string,
    /// or encoded words.
    public static func displayName(_ name: String, header: String) throws(InvalidHeaderValue) -> String {
        try checkNoControls(name, header: header)
        let ascii = name.unicodeScalars.allSatisfy { $0.isASCII }
        if ascii && !name.containsEncodedWordOpener && name.utf8.count <= 60 {
            let atoms = name.split(separator: " ", omittingEmptySubsequences: false)
            if !atoms.contains(where: { $0.isEmpty }) && atoms.allSatisfy({ $0.utf8.allSatisfy(EmailAddress.isAtext) }) {
                return name
            }
            return "\"" + name.replacingOccurrences(of: "\\", with: "\\\\").replacingOccurrences(of: "\"", with: "\\\"") + "\""
        }
        return encodedWords(name)
    }

    /// `Name <address>` or `<address>` alone when the name is empty.
    public static func mailbox(name: String, address: EmailAddress, header: String) throws(InvalidHeaderValue) -> String {
        let trimmed = name.trimmingSpaces()
        if trimmed.isEmpty { return "<\(address.value)>" }
        return try displayName(trimmed, header: header) + " <\(address.value)>"
    }

    /// UTF-8 B-encoded words, split on character boundaries, joined by CRLF SP.
    static func encodedWords(_ value: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        chunk.reserveCapacity(bytesPerWord + 4)
        func add(_ bytes: some Collection<UInt8>) {
            if chunk.count + bytes.count > bytesPerWord && !chunk.isEmpty {
                words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk.removeAll(keepingCapacity: true)
            }
            chunk += bytes
        }
        if value.unicodeScalars.allSatisfy(standsAlone) {
            // Every scalar is a character of its own: no grapheme breaking needed.
            for scalar in value.unicodeScalars { add(UTF8.encode(scalar)!) }
        } else {
            for character in value { add(character.utf8) }
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
        }
        return words.joined(separator: "\r\n ")
    }

    /// Scalars that always form a character (grapheme cluster) by themselves
    /// in text without controls: Latin, Greek and Cyrillic letters, Latin-1
    /// and general punctuation, currency signs. Nothing here extends or joins
    /// a neighbour (no combining marks, joiners, spacing marks or prepended
    /// concatenation marks, no Hangul, no regional indicators), and CR LF cannot
    /// occur in a header value. `HeaderEncodingReferenceTests` checks the
    /// ranges against Swift's own grapheme breaking.
    static func standsAlone(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x20...0x7E, 0xA0...0x2FF, 0x370...0x482, 0x48A...0x52F, 0x2010...0x2027, 0x2030...0x205E, 0x20A0...0x20C0:
            true
        default:
            false
        }
    }
}
