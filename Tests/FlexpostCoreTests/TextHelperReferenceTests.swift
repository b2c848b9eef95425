import Foundation
import Testing

@testable import FlexpostCore

/// Helpers that replaced Foundation or standard-library calls on the
/// per-message path (`trimmingSpaces`, `containsEncodedWordOpener`,
/// `MailComposer.singleLine`, `zeroPadded`); the calls they replaced stay here
/// as the references.
@Suite("Per-message text helpers against the calls they replaced")
struct TextHelperReferenceTests {
    static let pieces = [
        "a", "Erika", "ü", "€", "😀", " ", "  ", "\t", "\n", "\r\n", "\u{0B}", "\u{0C}", "\u{85}",
        "\u{A0}", "\u{1680}", "\u{2000}", "\u{2007}", "\u{200A}", "\u{200B}", "\u{2028}", "\u{202F}", "\u{205F}",
        "\u{3000}", "\u{FEFF}", "e\u{301}", " \u{301}", "=", "?", "=?", "?=", "x=?y", "Müller, Erika",
    ]

    @Test("trimmingSpaces equals trimmingCharacters(in: .whitespaces) on 20,000 generated strings")
    func trimming() {
        var random = SplitMix(seed: 0x7B1A_5E)
        #expect("".trimmingSpaces() == "")
        #expect(" \t\u{3000}".trimmingSpaces() == "")
        #expect("\u{A0}Erika Müller\t".trimmingSpaces() == "Erika Müller")
        #expect("\nErika\n".trimmingSpaces() == "\nErika\n")
        for round in 0..<20_000 {
            var text = ""
            for _ in 0..<random.below(8) { text += random.pick(Self.pieces) }
            let expected = text.trimmingCharacters(in: .whitespaces)
            #expect(text.trimmingSpaces() == expected, "round \(round): \(Array(text.unicodeScalars))")
            #expect(text[...].trimmingSpaces() == expected)
            #expect(text.containsEncodedWordOpener == text.contains("=?"), "round \(round): \(text)")
            if text.trimmingSpaces() != expected { break }
        }
    }

    @Test("every space separator of Unicode is trimmed, and nothing else is")
    func allScalars() {
        for value in UInt32(0)...0x10FFFF {
            guard let scalar = Unicode.Scalar(value) else { continue }
            let text = String(scalar) + "x" + String(scalar)
            let expected = text.trimmingCharacters(in: .whitespaces)
            if text.trimmingSpaces() != expected {
                Issue.record("U+\(String(value, radix: 16, uppercase: true)): got \(text.trimmingSpaces().unicodeScalars.map(\.value)), Foundation \(expected.unicodeScalars.map(\.value))")
                break
            }
        }
    }

    @Test("singleLine equals split(whereSeparator: \\.isNewline).joined(separator: \" \") on 20,000 generated subjects")
    func singleLine() {
        var random = SplitMix(seed: 0x51_4E61)
        let pieces = Self.pieces + ["\r", "\n\u{301}", "\r\n\r\n", "\u{2029}", "Zugangsdaten – Auftrag", "\u{1F1E9}\u{1F1EA}"]
        #expect(MailComposer.singleLine("Ihre Zugangsdaten – Auftrag 4711\n") == "Ihre Zugangsdaten – Auftrag 4711")
        for round in 0..<20_000 {
            var text = ""
            for _ in 0..<random.below(8) { text += random.pick(pieces) }
            let expected = text.split(whereSeparator: \.isNewline).joined(separator: " ")
            #expect(MailComposer.singleLine(text) == expected, "round \(round): \(Array(text.unicodeScalars))")
            if MailComposer.singleLine(text) != expected { break }
        }
    }

    @Test("zeroPadded equals sign + zeros + String(magnitude) for widths 0...6")
    func zeroPadding() {
        let values = [0, 1, 7, 9, 10, 59, 99, 100, 999, 2026, 9999, 10_000, 86_399, -1, -7, -59, -2026, Int.max, Int.min]
        for value in values {
            for width in 0...6 {
                let digits = String(value.magnitude)
                let expected = (value < 0 ? "-" : "") + String(repeating: "0", count: max(0, width - digits.count)) + digits
                #expect(value.zeroPadded(width) == expected, "\(value) width \(width)")
                #expect(UInt8(truncatingIfNeeded: value).zeroPadded(width) == String(repeating: "0", count: max(0, width - String(UInt8(truncatingIfNeeded: value)).count)) + String(UInt8(truncatingIfNeeded: value)))
            }
        }
    }
}
