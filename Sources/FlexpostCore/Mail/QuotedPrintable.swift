/// RFC 2045 quoted-printable encoding of UTF-8 text with CRLF line breaks.
public enum QuotedPrintable {
    static let maxLine = 76
    static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes `text`; any of CRLF, CR or LF counts as a line break and becomes CRLF.
    public static func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(text.utf8.count + text.utf8.count / 8)
        let normalized = text.replacingOccurrences(of: "\r\n", with: "\n").replacingOccurrences(of: "\r", with: "\n")
        var first = true
        for line in normalized.split(separator: "\n", omittingEmptySubsequences: false) {
            if !first { out += [13, 10] }
            first = false
            encodeLine(Array(line.utf8), into: &out)
        }
        return out
    }

    private static func encodeLine(_ bytes: [UInt8], into out: inout [UInt8]) {
        var column = 0
        for (index, byte) in bytes.enumerated() {
            let isLast = index == bytes.count - 1
            var token: [UInt8]
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "="))
                || ((byte == 32 || byte == 9) && !isLast)
            // A line-initial "." or "From " is encoded so that no relay or mbox can touch it.
            let guarded = column == 0 && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "F"))
            if literal && !guarded {
                token = [byte]
            } else {
                token = [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
            }
            // Keep room for the soft break "=" unless this is the line's last token.
            let limit = isLast ? maxLine : maxLine - 1
            if column + token.count > limit {
                out += [UInt8(ascii: "="), 13, 10]
                column = 0
                if token.count == 1 && (byte == UInt8(ascii: ".") || byte == UInt8(ascii: "F")) {
                    token = [UInt8(ascii: "="), hex[Int(byte >> 4)], hex[Int(byte & 15)]]
                }
            }
            out += token
            column += token.count
        }
    }
}
