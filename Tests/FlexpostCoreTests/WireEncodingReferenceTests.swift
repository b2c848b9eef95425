import Testing

@testable import FlexpostCore

/// The quoted-printable encoder and the wire check were rewritten for speed
/// (scratch buffer; eight bytes at a time). These tests hold the first,
/// byte-by-byte versions as references on generated input.
@Suite("MIME encoders against their byte-by-byte references")
struct WireEncodingReferenceTests {
    /// The byte-by-byte quoted-printable line encoder flexpost shipped before.
    static func referenceLine(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var column = 0
        let last = bytes.count - 1
        for index in 0..<bytes.count {
            let byte = bytes[index]
            let isLast = index == last
            let literal = (byte >= 33 && byte <= 126 && byte != UInt8(ascii: "=")) || ((byte == 32 || byte == 9) && !isLast)
            let risky = byte == UInt8(ascii: ".") || byte == UInt8(ascii: "F")
            var encoded = !literal || (column == 0 && risky)
            let limit = isLast ? 76 : 75
            if column + (encoded ? 3 : 1) > limit {
                out += [UInt8(ascii: "="), 13, 10]
                column = 0
                if risky { encoded = true }
            }
            if encoded {
                out += [UInt8(ascii: "="), Array("0123456789ABCDEF".utf8)[Int(byte >> 4)], Array("0123456789ABCDEF".utf8)[Int(byte & 15)]]
                column += 3
            } else {
                out.append(byte)
                column += 1
            }
        }
        return out
    }

    /// The byte-by-byte wire check flexpost shipped before.
    static func referenceViolation(_ message: [UInt8]) -> String? {
        var lineLength = 0
        var previous: UInt8 = 0
        for byte in message {
            if byte >= 0x80 { return "message contains 8-bit data" }
            if byte == 0 { return "message contains NUL" }
            if byte == 10 && previous != 13 { return "message contains a bare LF" }
            if previous == 13 && byte != 10 { return "message contains a bare CR" }
            if byte == 10 {
                lineLength = 0
            } else if byte != 13 {
                lineLength += 1
                if lineLength > 998 { return "message has a line longer than 998 octets" }
            }
            previous = byte
        }
        return nil
    }

    static let pieces: [[UInt8]] = [
        Array("a".utf8), Array("Zugangsdaten".utf8), Array(" ".utf8), Array("\t".utf8), Array(".".utf8), Array("F".utf8),
        Array("From ".utf8), Array("=".utf8), Array("ä".utf8), Array("€".utf8), Array("😀".utf8), [0x7F], [0x01], [0x0C],
        Array(String(repeating: "x", count: 70).utf8), Array(String(repeating: "ü", count: 30).utf8),
    ]

    @Test("quoted-printable lines: 20,000 generated lines encode to the same bytes")
    func quotedPrintableLines() {
        var random = SplitMix(seed: 0x0051_DE0F)
        for round in 0..<20_000 {
            var line: [UInt8] = []
            for _ in 0..<random.below(12) { line += random.pick(Self.pieces) }
            var encoded: [UInt8] = [9, 9]  // appended to what is already there
            line.withUnsafeBufferPointer { QuotedPrintable.encodeLine($0, into: &encoded) }
            #expect(Array(encoded.dropFirst(2)) == Self.referenceLine(line), "round \(round): \(line)")
            if encoded.dropFirst(2) != Self.referenceLine(line)[...] { break }
        }
    }

    /// Whole texts: CR, LF and CRLF each end a line, and every line is encoded by the reference.
    static func referenceText(_ text: [UInt8]) -> [UInt8] {
        var lines: [[UInt8]] = [[]]
        var index = 0
        while index < text.count {
            let byte = text[index]
            if byte == 13 || byte == 10 {
                lines.append([])
                index += (byte == 13 && index + 1 < text.count && text[index + 1] == 10) ? 2 : 1
            } else {
                lines[lines.count - 1].append(byte)
                index += 1
            }
        }
        return Array(lines.map(referenceLine).joined(separator: [13, 10]))
    }

    @Test("quoted-printable texts: 20,000 generated texts with CR, LF and CRLF encode to the same bytes")
    func quotedPrintableTexts() {
        var random = SplitMix(seed: 0x0051_DE1F)
        let breaks: [[UInt8]] = [[13, 10], [10], [13], [13, 10, 13, 10], [10, 13]]
        for round in 0..<20_000 {
            var text: [UInt8] = []
            for _ in 0..<random.below(16) {
                text += random.below(4) == 0 ? random.pick(breaks) : random.pick(Self.pieces)
            }
            let encoded = QuotedPrintable.encode(String(decoding: text, as: UTF8.self))
            #expect(encoded == Self.referenceText(text), "round \(round): \(text)")
            if encoded != Self.referenceText(text) { break }
        }
    }

    @Test("wire check: 20,000 generated messages get the same verdict, at every alignment")
    func wireCheck() {
        var random = SplitMix(seed: 0x0057_19E5)
        let parts: [[UInt8]] = [
            Array("Subject: x".utf8), [13, 10], [13, 10], [13, 10], Array("abcdefgh".utf8), Array("0123456789".utf8),
            [10], [13], [0], [0xC3, 0xA4], [9], [0x0B], [0x7F], Array(String(repeating: "y", count: 400).utf8),
            Array(String(repeating: "z", count: 990).utf8),
        ]
        for round in 0..<20_000 {
            var message: [UInt8] = Array(repeating: UInt8(ascii: "p"), count: random.below(9))
            for _ in 0..<random.below(10) { message += random.pick(parts) }
            let expected = Self.referenceViolation(message)
            #expect(WireFormat.violation(in: message) == expected, "round \(round)")
            if WireFormat.violation(in: message) != expected { break }
        }
        // Overlong lines found exactly at 999 octets, whatever the alignment.
        for lead in 0..<8 {
            let prefix = Array(repeating: UInt8(ascii: "a"), count: lead) + [13, 10]
            #expect(WireFormat.violation(in: prefix + Array(repeating: 120, count: 998) + [13, 10]) == nil)
            #expect(WireFormat.violation(in: prefix + Array(repeating: 120, count: 999)) != nil)
        }
    }
}
