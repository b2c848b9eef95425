import FlexpostCore
import Foundation
import Testing

/// Golden files for every template and language: access data (active and
/// pending account) and administrator notice, in German and English. A
/// template change shows up as a diff in Tests/Fixtures/golden/.
/// Regenerate with FLEXPOST_UPDATE_GOLDEN=1 swift test --filter GoldenMailTests.
@Suite("golden mails")
struct GoldenMailTests {
    static let composer = MailComposer(
        templates: try! MailComposerTests.templates(),
        sender: Contact(name: "CompanyFlex", email: try! EmailAddress(validating: "noreply@companyflex.example")),
        timeZone: TimeZone(identifier: "Europe/Berlin")!)

    static func order(_ name: String, language: Language) throws -> OrderConfirmation {
        guard case .orderConfirmed(var order) = try EventDecoder().decode(Fixtures.event(name)).event else {
            throw EventRejection(field: "type", rule: "not an order")
        }
        order.customer.language = language
        return order
    }

    /// A readable rendering: the decoded headers and both parts.
    static func readable(_ mail: MailMessage, bytes: [UInt8]) -> String {
        let headerBlock = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
            .replacingOccurrences(of: "\r\n", with: "\n")
        return """
            \(headerBlock)

            Decoded-Subject: \(mail.subject)
            --- text/plain ---
            \(mail.textBody)
            --- text/html ---
            \(mail.htmlBody)
            """
    }

    @Test("every template renders as its golden file", arguments: [
        ("access-data.de.active", "order-second-site.json", Language.de, DeliveryKind.accessData, true),
        ("access-data.en.active", "order-second-site.json", .en, .accessData, true),
        ("access-data.de.pending", "order-new-customer.json", .de, .accessData, false),
        ("access-data.en.pending", "order-new-customer.json", .en, .accessData, false),
        ("admin-notice.de", "order-second-base-package.json", .de, .adminNotice, true),
        ("admin-notice.en", "order-second-base-package.json", .en, .adminNotice, true),
        ("admin-notice.de.site-only", "order-second-site.json", .de, .adminNotice, true),
    ])
    func golden(name: String, event: String, language: Language, kind: DeliveryKind, active: Bool) throws {
        let order = try Self.order(event, language: language)
        let recipient = kind == .accessData ? order.customer.contact : order.portal.administrators[0]
        let content: any MailContent = kind == .accessData
            ? AccessDataMail(order: order, portalActive: active)
            : AdministratorNotice(order: order, administrator: recipient)
        let mail = try Self.composer.compose(
            content, to: recipient, language: language, messageID: "<golden-\(name)@companyflex.example>",
            date: RFC3339.parse("2026-12-01T07:00:00Z")!)
        let bytes = try mail.render()
        #expect(WireFormat.violation(in: bytes) == nil)
        let rendered = Self.readable(mail, bytes: bytes)
        let file = Fixtures.root.appendingPathComponent("golden/\(name).txt")
        if ProcessInfo.processInfo.environment["FLEXPOST_UPDATE_GOLDEN"] == "1" {
            try rendered.write(to: file, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: file, encoding: .utf8)
        #expect(rendered == expected, "golden file \(name).txt differs; regenerate with FLEXPOST_UPDATE_GOLDEN=1 if intended")
    }
}
