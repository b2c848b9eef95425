import FlexpostCore
import Foundation

/// A small, valid message and its envelope, for the transports' tests.
enum TestMail {
    static let sender = try! EmailAddress(validating: "noreply@companyflex.example")

    static func message(to: String, text: String = "Hallo Welt\n") -> ([UInt8], Envelope) {
        let recipient = try! EmailAddress(validating: to)
        let bytes = try! MailMessage(
            from: Contact(name: "CompanyFlex", email: sender), to: Contact(name: "Test", email: recipient),
            subject: "Prüfung", textBody: text, htmlBody: "<p>\(text)</p>", date: Date(),
            timeZone: TimeZone(identifier: "Europe/Berlin")!, messageID: "<\(UUID().uuidString)@companyflex.example>",
            language: .de
        ).render()
        return (bytes, Envelope(sender: sender, recipients: [recipient]))
    }
}
