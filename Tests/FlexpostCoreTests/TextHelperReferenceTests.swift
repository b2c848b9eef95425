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

/// Encoded words split on character boundaries; for text made only of scalars
/// that are characters by themselves the encoder walks scalars instead of
/// grapheme clusters. Swift's grapheme breaking stays the reference.
@Suite("Encoded words against the grapheme-cluster walk")
struct HeaderEncodingReferenceTests {
    /// The encoder as it was: one character at a time.
    static func reference(_ value: String) -> String {
        var words: [String] = []
        var chunk: [UInt8] = []
        for character in value {
            let bytes = Array(String(character).utf8)
            if chunk.count + bytes.count > HeaderEncoding.bytesPerWord && !chunk.isEmpty {
                words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
                chunk = []
            }
            chunk += bytes
        }
        if !chunk.isEmpty || words.isEmpty {
            words.append("=?utf-8?B?" + Data(chunk).base64EncodedString() + "?=")
        }
        return words.joined(separator: "\r\n ")
    }

    static var aloneScalars: [Unicode.Scalar] {
        (UInt32(0)...0x10FFFF).compactMap(Unicode.Scalar.init).filter(HeaderEncoding.standsAlone)
    }

    @Test("every scalar taken as standing alone is a character of its own beside any other such scalar")
    func standsAlone() {
        let alone = Self.aloneScalars
        #expect(alone.count > 1_200)
        let neighbours = stride(from: 0, to: alone.count, by: 37).map { alone[$0] } + ["a", " ", "ü", "–", "€", "\u{A0}"]
        var failures: [String] = []
        for scalar in alone {
            for neighbour in neighbours {
                var text = String.UnicodeScalarView()
                text.append(neighbour)
                text.append(scalar)
                text.append(neighbour)
                if String(text).count != 3 {
                    failures.append("U+\(String(scalar.value, radix: 16)) beside U+\(String(neighbour.value, radix: 16))")
                }
            }
        }
        #expect(failures.isEmpty, "\(failures.prefix(10))")
    }

    @Test("encoded words equal the character walk's on 20,000 generated header values")
    func generated() {
        var random = SplitMix(seed: 0xE4C0_DED)
        let pieces = ["Jörg Schäfer", "Ihre Zugangsdaten – Auftrag ", "ORD-2026-004711", "€", "‼", "😀", "e\u{301}", "👩‍💻",
                      "🇩🇪", "한국", "Ελληνικά", "Кирилица", "\u{483}", " ", "x", String(repeating: "ä", count: 25), "\u{200D}"]
        #expect(HeaderEncoding.encodedWords("Jörg Schäfer") == Self.reference("Jörg Schäfer"))
        for round in 0..<20_000 {
            var text = ""
            for _ in 0..<random.below(8) + 1 { text += random.pick(pieces) }
            let expected = Self.reference(text)
            #expect(HeaderEncoding.encodedWords(text) == expected, "round \(round): \(Array(text.unicodeScalars))")
            if HeaderEncoding.encodedWords(text) != expected { break }
        }
    }
}
