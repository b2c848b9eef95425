import FlexpostCore
import Foundation
import Testing

/// SPEC §6: bounces read as a pure part of the core, from samples of the
/// formats real servers send.
@Suite struct BounceReportTests {
    @Test("RFC 3464 from Postfix: failed, 5.1.1, the diagnostic and the remote MTA, the returned Message-ID, the VERP address")
    func postfix() throws {
        let report = BounceReport.read(try Fixtures.bounce("postfix-user-unknown.eml", token: "42-abcdefghijklmnop"))
        #expect(report.bounceClass == .failed)
        #expect(report.recipients == [BouncedRecipient(
            recipient: "erika.mueller@mueller-logistik.example", action: "failed", status: "5.1.1",
            diagnostic: "550 5.1.1 <erika.mueller@mueller-logistik.example>: Recipient address rejected: User unknown in virtual mailbox table",
            remoteMTA: "mx.mueller-logistik.example", bounceClass: .failed)])
        #expect(report.returnedMessageId == "<m-1@companyflex.example>")
        #expect(report.returnAddresses.first == "bounces+42-abcdefghijklmnop@companyflex.example")
        #expect(report.reportingMTA == "mx.companyflex.example")
        #expect(report.messageId == "<20261201070005.4F1A2@mx.companyflex.example>")
    }

    @Test("Exchange / Microsoft 365: a base64 delivery-status part, nested alternatives, the returned message as message/rfc822")
    func exchange() throws {
        let report = BounceReport.read(try Fixtures.bounce("exchange-mailbox-full.eml"))
        #expect(report.bounceClass == .failed)
        #expect(report.recipients.map(\.recipient) == ["bsp-admin@mueller-logistik.example"])
        #expect(report.recipients.first?.status == "5.2.2")
        #expect(report.recipients.first?.diagnostic?.hasPrefix("554 5.2.2 mailbox full") == true)
        #expect(report.returnedMessageId == "<m-1@companyflex.example>")
    }

    @Test("a delay (Gmail, LF line ends) is delayed, not failed; a report of two recipients lists both, failed wins")
    func delayedAndSeveral() throws {
        let delayed = BounceReport.read(try Fixtures.bounce("gmail-delayed.eml"))
        #expect(delayed.bounceClass == .delayed && delayed.recipients.first?.status == "4.4.1")
        #expect(delayed.returnedMessageId == "<m-1@companyflex.example>")
        let two = BounceReport.read(try Fixtures.bounce("two-recipients.eml"))
        #expect(two.recipients.map(\.bounceClass) == [.delivered, .failed])
        #expect(two.recipients.map(\.recipient) == ["a@example.org", "b@example.org"])
        #expect(two.bounceClass == .failed && two.recipients.last?.remoteMTA == "mx.example.org")
    }

    @Test("the older text forms: qmail, Exim, Sendmail give a recipient and a status")
    func textForms() throws {
        for (name, recipient, status) in [("qmail.eml", "kunde@example.net", "5.1.1"), ("exim-old.eml", "kunde@example.com", "5.0.0"),
                                          ("sendmail-old.eml", "kunde@old.example", "5.1.1")] {
            let report = BounceReport.read(try Fixtures.bounce(name))
            #expect(report.bounceClass == .failed, "\(name)")
            #expect(report.recipients.first?.recipient == recipient, "\(name): \(report.recipients)")
            #expect(report.recipients.first?.status == status, "\(name): \(report.recipients)")
        }
        #expect(BounceReport.read(try Fixtures.bounce("qmail.eml")).returnedMessageId == "<m-1@companyflex.example>")
    }

    @Test("an RFC 3834 auto-reply and an ARF feedback report are never taken for bounces; a malformed report is unknown")
    func notBounces() throws {
        #expect(BounceReport.read(try Fixtures.bounce("autoreply.eml")).bounceClass == .autoreply)
        let arf = BounceReport.read(try Fixtures.bounce("arf.eml"))
        #expect(arf.bounceClass == .feedback && arf.recipients.isEmpty)
        let broken = BounceReport.read(try Fixtures.bounce("malformed.eml"))
        #expect(broken.bounceClass == .unknown && broken.recipients.isEmpty)
        #expect(BounceReport.read([]).bounceClass == .unknown)
        #expect(BounceReport.read(Array("no headers at all, just text".utf8)).bounceClass == .unknown)
    }

    @Test("reading never traps: every prefix of every sample, and random bytes")
    func neverTraps() throws {
        var generator = SystemRandomNumberGenerator()
        for name in ["postfix-user-unknown.eml", "exchange-mailbox-full.eml", "two-recipients.eml", "qmail.eml", "arf.eml"] {
            let bytes = try Fixtures.bounce(name)
            for end in stride(from: 0, through: bytes.count, by: 7) { _ = BounceReport.read(Array(bytes[..<end])) }
        }
        for _ in 0..<200 {
            _ = BounceReport.read((0..<Int.random(in: 0..<600, using: &generator)).map { _ in UInt8.random(in: 0...255, using: &generator) })
        }
    }

    @Test("VERP: the address names the delivery and fits a 64-octet local part; a forged or altered token matches nothing")
    func returnPath() throws {
        let key = FingerprintKey(Secret(Data(repeating: 9, count: 32).base64EncodedString()))!
        let path = ReturnPath(base: try EmailAddress(validating: "bounces@companyflex.example"), key: key)
        let address = path.address(for: 4_711)
        #expect(address.value.hasPrefix("bounces+4711-") && address.value.hasSuffix("@companyflex.example"))
        let local = address.value.split(separator: "@")[0]
        #expect(local.utf8.count <= 64 && path.address(for: .max).value.split(separator: "@")[0].utf8.count <= 64)
        #expect(path.deliveryId(in: address.value) == 4_711)
        #expect(path.deliveryId(in: address.value.uppercased().replacingOccurrences(of: "@COMPANYFLEX.EXAMPLE", with: "@companyflex.example")) == 4_711,
                "a server that changed the case")
        #expect(path.deliveryId(in: address.value.replacingOccurrences(of: "+4711-", with: "+4712-")) == nil, "another id")
        #expect(path.deliveryId(in: "bounces+4711-aaaaaaaaaaaaaaaa@companyflex.example") == nil, "a made-up token")
        #expect(path.deliveryId(in: address.value.replacingOccurrences(of: "companyflex.example", with: "evil.example")) == nil)
        let other = ReturnPath(base: try EmailAddress(validating: "bounces@companyflex.example"),
                               key: FingerprintKey(Secret(Data(repeating: 8, count: 32).base64EncodedString()))!)
        #expect(other.deliveryId(in: address.value) == nil, "another queue's key")
    }
}
