@testable import FlexpostCore
import Foundation
import Testing

/// The search term's normal form against the Foundation version it replaced
/// (kept here as the reference), on random texts of digits, phone
/// punctuation, letters and every kind of space and line break.
@Suite struct SearchTermReferenceTests {
    static func reference(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        let allowed = CharacterSet(charactersIn: "0123456789+ -/()")
        if !trimmed.isEmpty, trimmed.unicodeScalars.allSatisfy(allowed.contains) {
            var digits = String(trimmed.unicodeScalars.filter { CharacterSet.decimalDigits.contains($0) }.map(Character.init))
            if digits.count >= 6 {
                if trimmed.hasPrefix("+") { digits = "00" + digits }
                if digits.hasPrefix("0049") { digits = "0" + digits.dropFirst(4) }
                return digits
            }
        }
        return trimmed.lowercased()
    }

    @Test("the same term as the Foundation version, for 20,000 random texts and the usual forms")
    func sameAsFoundation() {
        for text in ["+49 221 4711000", "0049 221/4711000", "0221 4711000", " +43 1 234 567 ", "Kunde@Example.COM",
                     "ORD-2026-004711", "\n 5500123456\t", "12345", "(0221) 47-11", "\u{A0}030 5000000\u{2028}", ""] {
            #expect(OrderSearch.term(text) == Self.reference(text), "\(text)")
        }
        let alphabet: [Character] = Array("0123456789+ -/()aBx@.") + ["\t", "\n", "\r", "\u{A0}", "\u{2003}", "\u{85}", "\u{2029}", "ä"]
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...16, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(OrderSearch.term(text) == Self.reference(text), "\(text.unicodeScalars.map { $0.value })")
        }
    }
}
