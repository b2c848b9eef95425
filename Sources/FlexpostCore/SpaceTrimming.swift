/// Trimming of what Foundation's `CharacterSet.whitespaces` holds — the tab
/// (U+0009), the space separators (category Zs) and, in Foundation's set,
/// the zero width space U+200B — without a round trip
/// through `NSString`, which cost ~2 % of `drain` for display names and
/// subjects. Line breaks are not spaces here, as there. `TextHelperReferenceTests`
/// holds Foundation's `trimmingCharacters(in: .whitespaces)` as the reference.
extension String {
    public func trimmingSpaces() -> String {
        // Plain case: an ASCII first and last byte that is neither space nor tab.
        if let first = utf8.first, let last = utf8.last, Self.isPlainEdge(first), Self.isPlainEdge(last) {
            return self
        }
        let scalars = unicodeScalars
        guard let start = scalars.firstIndex(where: { !Self.isSpace($0) }),
            let end = scalars.lastIndex(where: { !Self.isSpace($0) })
        else { return "" }
        return String(scalars[start...end])
    }

    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09, 0x20, 0xA0, 0x1680, 0x2000...0x200B, 0x202F, 0x205F, 0x3000: true
        default: false
        }
    }

    private static func isPlainEdge(_ byte: UInt8) -> Bool {
        byte < 0x80 && byte != 0x20 && byte != 0x09
    }
}

extension Substring {
    public func trimmingSpaces() -> String { String(self).trimmingSpaces() }
}

extension StringProtocol {
    /// Whether the text holds `=?`, the opener of an RFC 2047 encoded word.
    var containsEncodedWordOpener: Bool {
        var previous: UInt8 = 0
        for byte in utf8 {
            if previous == UInt8(ascii: "=") && byte == UInt8(ascii: "?") { return true }
            previous = byte
        }
        return false
    }
}
