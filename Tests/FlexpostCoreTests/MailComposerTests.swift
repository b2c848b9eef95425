import FlexpostCore
import Foundation
import Testing

/// Rendering the real templates: R2 wording, R3 without credentials, R6 language.
@Suite("mail composition from the templates")
struct MailComposerTests {
    static func templates() throws -> MailTemplates {
        var sources: [String: String] = [:]
        for name in MailTemplates.requiredFileNames {
            sources[name] = try String(contentsOf: Fixtures.templatesDirectory.appendingPathComponent(name), encoding: .utf8)
        }
        return try MailTemplates(sources: sources)
    }

    let composer = MailComposer(
        templates: try! MailComposerTests.templates(),
        sender: Contact(name: "CompanyFlex", email: try! EmailAddress(validating: "noreply@companyflex.example")),
        timeZone: TimeZone(identifier: "Europe/Berlin")!)

    func order(_ name: String) throws -> OrderConfirmation {
        guard case .orderConfirmed(let order) = try EventDecoder().decode(Fixtures.event(name)).event else {
            throw EventRejection(field: "type", rule: "not an order")
        }
        return order
    }

    func compose(_ content: some MailContent, to: Contact, _ language: Language) throws -> MailMessage {
        try composer.compose(content, to: to, language: language, messageID: "<t@companyflex.example>",
                             date: RFC3339.parse("2026-12-01T07:00:00Z")!)
    }

    @Test("access data, active account: password present, text not HTML-escaped, no OTP")
    func accessDataActive() throws {
        let order = try order("order-second-site.json")
        let mail = try compose(AccessDataMail(order: order, portalActive: true), to: order.customer.contact, .de)
        #expect(mail.subject == "Ihre Zugangsdaten für CompanyFlex – Auftrag ORD-2026-004711")
        #expect(mail.textBody.contains("Passwort:          s7Qp-Lx2r-9vTm"))
        #expect(mail.textBody.contains("Müller & Söhne Logistik GmbH"))
        #expect(mail.htmlBody.contains("Müller &amp; Söhne Logistik GmbH"))
        #expect(mail.textBody.contains("bereits aktiv"))
        #expect(!mail.textBody.contains("Einmalpasswort für die erste Anmeldung"))
    }

    @Test("access data, pending account: OTP present, in English")
    func accessDataPending() throws {
        let order = try order("order-new-customer.json")
        let mail = try compose(AccessDataMail(order: order, portalActive: false), to: order.customer.contact, .en)
        #expect(mail.textBody.contains("K9vR-7tXq-M2wL"))
        #expect(mail.htmlBody.contains("K9vR-7tXq-M2wL"))
        #expect(mail.textBody.contains("Zr5m-Pq8d-Yc1v"))
        #expect(mail.subject.hasPrefix("Your CompanyFlex access data"))
    }

    @Test("administrator notice: ids, site, numbers; never a credential")
    func adminNotice() throws {
        let order = try order("order-second-base-package.json")
        let admin = order.portal.administrators[0]
        let mail = try compose(AdministratorNotice(order: order, administrator: admin), to: admin, .de)
        for expected in ["GP-100300", "SP-300500", "Lager Hamburg", "+49 40 5550100", "Jörg Schäfer"] {
            #expect(mail.textBody.contains(expected))
        }
        for secret in ["Hq4t-Wz8n-3kPe", "ank001234567999", "001234567999"] {
            #expect(!mail.textBody.contains(secret) && !mail.htmlBody.contains(secret) && !mail.subject.contains(secret))
        }
    }

    @Test("a missing template is refused at start")
    func missingTemplate() {
        #expect(throws: MailTemplates.TemplateError.self) { try MailTemplates(sources: [:]) }
    }
}
