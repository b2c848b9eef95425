@testable import FlexpostCore
import Testing

/// The enhanced status scan of the bounce reader against the regular
/// expression it replaced (kept here as the reference), on edge cases and on
/// random ASCII texts made of digits, dots and a few letters.
@Suite struct EnhancedStatusScanTests {
    static func reference(_ text: String) -> String? {
        text.firstMatch(of: /(?:^|[^\d.])([245])\.(\d{1,3})\.(\d{1,3})(?:$|[^\d])/).map { "\($0.1).\($0.2).\($0.3)" }
    }

    @Test("the same answer as the regular expression")
    func sameAsRegex() {
        let cases = ["5.1.1", "Status: 5.1.1", "550 5.1.1 no such user", "55.1.1", "1.5.1.1", "x5.1.1y", "5.1234.1", "5.1.1234",
                     "4.4.7.", "2.0.0", "3.1.1", "5.1.", "5..1", "a 4.7.1 b 5.1.1", "5.123.456", "(5.2.2)", "5.1.1.1", ""]
        for text in cases {
            #expect(BounceReport.enhancedStatus(text) == Self.reference(text), "\(text)")
        }
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("0123452.5. x.")
        for _ in 0..<20_000 {
            let text = String((0..<Int.random(in: 0...14, using: &generator)).map { _ in alphabet.randomElement(using: &generator)! })
            #expect(BounceReport.enhancedStatus(text) == Self.reference(text), "\(text)")
        }
    }
}
