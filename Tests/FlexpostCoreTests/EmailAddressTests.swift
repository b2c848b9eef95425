import FlexpostCore
import Testing

/// Envelope addresses: the strict RFC 5321 subset flexpost accepts.
@Suite("e-mail addresses")
struct EmailAddressTests {
    @Test("accepted", arguments: [
        "erika.mueller@mueller-logistik.example", "a@b.co", "first+tag@sub.example.org", "x_y-z@xn--mller-kva.example",
        "o'brien@example.com",
    ])
    func valid(_ text: String) throws {
        #expect(try EmailAddress(validating: text).value == text)
    }

    @Test("refused", arguments: [
        "", "plain", "@example.com", "a@", "a@localhost", "a..b@example.com", ".a@example.com", "a.@example.com",
        "a b@example.com", "a@exa mple.com", "a@-example.com", "a@example-.com", "a@exa_mple.com", "müller@example.com",
        "a@müller.example", "a@example.com\r\nRCPT TO:<victim@example.com>", "a@example.com>", "<a@example.com>",
        "\"quoted\"@example.com", "a@example..com", String(repeating: "a", count: 65) + "@example.com",
        "a@" + String(repeating: "b", count: 64) + ".com",
    ])
    func invalid(_ text: String) {
        #expect(throws: EmailAddressError.self) { try EmailAddress(validating: text) }
    }
}
