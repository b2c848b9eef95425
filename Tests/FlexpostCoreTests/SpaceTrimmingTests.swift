import Foundation
import Testing

@testable import FlexpostCore

/// `trimmingSpaces` and `containsEncodedWordOpener` replaced Foundation calls
/// on the per-message path; Foundation stays the reference.
@Suite("Space trimming and the encoded-word check against Foundation")
struct SpaceTrimmingTests {
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
}
