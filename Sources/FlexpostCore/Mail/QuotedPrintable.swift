/// RFC 2045 quoted-printable encoding of UTF-8 text with CRLF line breaks.
public enum QuotedPrintable {
    static let maxLine = 76
    static let hex: [UInt8] = Array("0123456789ABCDEF".utf8)

    /// Encodes `text`; any of CRLF, CR or LF counts as a line break and becomes CRLF.
    /// One pass over the UTF-8 bytes (this runs for every part of every message).
    public static func encode(_ text: String) -> [UInt8] {
        var out: [UInt8] = []
        encode(text, into: &out)
        return out
    }

    /// Appends the encoding of `text` to `out` (the message being written).
    public static func encode(_ text: String, into out: inout [UInt8]) {
        var text = text
        text.withUTF8 { bytes in
            out.reserveCapacity(out.count + bytes.count + bytes.count / 8 + 16)
            var lineStart = 0
            var first = true
            var index = 0
            let base = bytes.baseAddress
            while index < bytes.count {
                // Eight bytes at a time while none of them is below 0x0E (CR and LF are).
                if let base, bytes.count - index >= 8,
                    !ByteWords.hasByteBelow(0x0E, UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self))
                {
                    index += 8
                    continue
                }
                let byte = bytes[index]
                if byte == 13 || byte == 10 {
                    if !first { out.append(13); out.append(10) }
                    first = false
                    encodeLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<index]), into: &out)
                    index += (byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) ? 2 : 1
                    lineStart = index
                } else {
                    index += 1
                }
            }
            if !first { out.append(13); out.append(10) }
            encodeLine(UnsafeBufferPointer(rebasing: bytes[lineStart..<bytes.count]), into: &out)
        }
    }

    /// Bytes that stand for themselves anywhere in a line: `!`…`~` except `=`.
    static let literal: [Bool] = (0...255).map { $0 >= 33 && $0 <= 126 && $0 != 61 }

    /// One line (no line break in `bytes`), soft-broken at 76 columns. Written
    /// into a scratch buffer and appended once (appending byte by byte to the
    /// message was most of the encoder's time).
    static func encodeLine(_ bytes: UnsafeBufferPointer<UInt8>, into out: inout [UInt8]) {
        guard !bytes.isEmpty else { return }
        // Each output line holds at least 25 input bytes; each soft break is 3 bytes.
        let capacity = bytes.count * 3 + (bytes.count / 25 + 1) * 3
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: capacity) { buffer in
            var written = 0
            var column = 0
            let last = bytes.count - 1
            var index = 0
            while index < bytes.count {
                // Eight plain bytes at a time (printable ASCII or space, no "=", none of
                // them the line's last byte) while they fit before the soft break and
                // are not at the start of a line, where "." and "F" are encoded.
                if column > 0, column + 8 <= maxLine - 1, last - index >= 8, let base = bytes.baseAddress {
                    let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                    if Self.isPlainRun(word) {
                        UnsafeMutableRawPointer(buffer.baseAddress! + written).storeBytes(of: word, as: UInt64.self)
                        written += 8
                        column += 8
                        index += 8
                        continue
                    }
                }
                let byte = bytes[index]
                defer { index += 1 }
                let isLast = index == last
                let plain = literal[Int(byte)] || ((byte == 32 || byte == 9) && !isLast)
                // A line-initial "." or "From " is encoded so that no relay or mbox can touch it.
                let risky = byte == UInt8(ascii: ".") || byte == UInt8(ascii: "F")
                var encoded = !plain || (column == 0 && risky)
                // Keep room for the soft break "=" unless this is the line's last token.
                let limit = isLast ? maxLine : maxLine - 1
                if column + (encoded ? 3 : 1) > limit {
                    buffer[written] = UInt8(ascii: "=")
                    buffer[written + 1] = 13
                    buffer[written + 2] = 10
                    written += 3
                    column = 0
                    if risky { encoded = true }
                }
                if encoded {
                    buffer[written] = UInt8(ascii: "=")
                    buffer[written + 1] = hex[Int(byte >> 4)]
                    buffer[written + 2] = hex[Int(byte & 15)]
                    written += 3
                    column += 3
                } else {
                    buffer[written] = byte
                    written += 1
                    column += 1
                }
            }
            out.append(contentsOf: UnsafeBufferPointer(rebasing: buffer[..<written]))
        }
    }

    /// Whether all eight bytes stand for themselves inside a line: 0x20 (space)
    /// to 0x7E, none of them "=" (0x3D).
    @inline(__always)
    static func isPlainRun(_ word: UInt64) -> Bool {
        guard !ByteWords.hasHighByte(word), !ByteWords.hasByteBelow(0x20, word) else { return false }
        // All bytes are 0x20-0x7F here, so adding 1 carries into a high bit only from 0x7F.
        guard !ByteWords.hasHighByte(word &+ ByteWords.ones) else { return false }
        return !ByteWords.hasByteBelow(1, word ^ (ByteWords.ones &* 0x3D))
    }
}
