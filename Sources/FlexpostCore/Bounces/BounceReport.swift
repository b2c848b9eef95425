import Crypto
import Foundation

/// What a received message says about mail flexpost sent (SPEC §6).
public enum BounceClass: String, Sendable, Codable, CaseIterable {
    /// Will not arrive (a permanent failure).
    case failed
    /// Still being tried by a server on the way.
    case delayed
    /// Arrived (a positive DSN).
    case delivered
    /// RFC 3834 vacation message and similar: not a bounce.
    case autoreply
    /// ARF abuse report: not a bounce.
    case feedback
    /// Nothing could be read from it.
    case unknown
}

/// One recipient a report is about.
public struct BouncedRecipient: Sendable, Equatable {
    public var recipient: String?
    public var action: String?
    /// The enhanced status code (`5.1.1`) when the report has one.
    public var status: String?
    public var diagnostic: String?
    public var remoteMTA: String?
    public var bounceClass: BounceClass

    public init(recipient: String?, action: String?, status: String?, diagnostic: String?, remoteMTA: String?,
                bounceClass: BounceClass) {
        self.recipient = recipient
        self.action = action
        self.status = status
        self.diagnostic = diagnostic
        self.remoteMTA = remoteMTA
        self.bounceClass = bounceClass
    }
}

/// A received message read as a bounce: its class, the recipients it
/// reports, and what ties it to a delivery (the VERP address it came back to,
/// the returned message's Message-ID).
public struct BounceReport: Sendable, Equatable {
    public var bounceClass: BounceClass
    public var recipients: [BouncedRecipient]
    /// The Message-ID of the message that bounced, from the returned message or its headers.
    public var returnedMessageId: String?
    /// Where the bounce was addressed (`bounces+TOKEN@…`): `Delivered-To`, `X-Original-To`, `Envelope-To` or `To`.
    public var returnAddresses: [String]
    public var reportingMTA: String?
    /// The bounce's own Message-ID (with the recipients, what makes it "the same bounce").
    public var messageId: String?
    /// SHA-256 of the raw message, hex: "the same bounce" when it has no Message-ID.
    public var digest: String = ""

    /// Reads a raw RFC 5322 message. Never fails: what cannot be read is `unknown`.
    public static func read(_ bytes: [UInt8]) -> BounceReport {
        let message = InboundMessage(bytes)
        let all = message.allParts
        let returnAddresses = ["Delivered-To", "X-Original-To", "Envelope-To", "X-Envelope-To", "To"].compactMap {
            message.header($0).flatMap(Self.address)
        }
        var report = BounceReport(bounceClass: .unknown, recipients: [], returnedMessageId: returnedMessageId(all),
                                  returnAddresses: returnAddresses, reportingMTA: nil,
                                  messageId: message.header("Message-ID"))
        report.digest = SHA256.hash(data: bytes).lowercaseHex
        if message.mediaType == "multipart/report" {
            switch message.contentTypeParameter("report-type")?.lowercased() {
            case "feedback-report":
                report.bounceClass = .feedback
                return report
            case "delivery-status":
                if let status = all.first(where: { ["message/delivery-status", "message/global-delivery-status",
                                                    "text/delivery-status"].contains($0.mediaType) }) {
                    report.read(deliveryStatus: status.decodedBody)
                    if !report.recipients.isEmpty { return report }
                }
            default: break
            }
        }
        if all.contains(where: { $0.mediaType == "message/feedback-report" }) {
            report.bounceClass = .feedback
            return report
        }
        if isAutoReply(message) {
            report.bounceClass = .autoreply
            return report
        }
        // The older text forms (qmail, Exim, Sendmail, Exchange 2003): a recipient and a status, as far as they can be read.
        let text = all.filter { $0.mediaType.hasPrefix("text/plain") || $0.mediaType == "text/plain" }.map(\.text)
            .joined(separator: "\n")
        if isFromMailer(message), let recipient = TextBounce.read(text.isEmpty ? message.text : text) {
            report.recipients = [recipient]
            report.bounceClass = recipient.bounceClass
        }
        return report
    }

    /// An RFC 3464 `message/delivery-status` body: the per-message block, then one block per recipient.
    mutating func read(deliveryStatus bytes: [UInt8]) {
        let blocks = InboundMessage.fieldBlocks(bytes)
        func value(_ block: [(name: String, value: String)], _ name: String) -> String? {
            block.first { $0.name.lowercased() == name }?.value
        }
        if let first = blocks.first { reportingMTA = value(first, "reporting-mta").map(Self.typedValue) }
        for block in blocks where value(block, "final-recipient") != nil || value(block, "original-recipient") != nil {
            let action = value(block, "action")?.lowercased().trimmingSpaces()
            let status = value(block, "status").flatMap(Self.enhancedStatus)
            let recipient = (value(block, "original-recipient") ?? value(block, "final-recipient")).map(Self.typedValue)
                .flatMap(Self.address)
            let bounceClass: BounceClass = switch action {
            case "failed": .failed
            case "delayed": .delayed
            case "delivered", "relayed", "expanded": .delivered
            default: status.map { $0.hasPrefix("5") ? .failed : $0.hasPrefix("4") ? .delayed : .delivered } ?? .unknown
            }
            recipients.append(BouncedRecipient(
                recipient: recipient, action: action, status: status,
                diagnostic: value(block, "diagnostic-code").map(Self.typedValue),
                remoteMTA: value(block, "remote-mta").map(Self.typedValue), bounceClass: bounceClass))
        }
        // The report's class: failed if any recipient failed, else the first recipient's.
        bounceClass = recipients.contains { $0.bounceClass == .failed } ? .failed : recipients.first?.bounceClass ?? .unknown
    }

    /// `rfc822; x@example.com` → `x@example.com`; `dns; mx.example` → `mx.example`.
    static func typedValue(_ value: String) -> String {
        guard let semicolon = value.firstIndex(of: ";") else { return value.trimmingSpaces() }
        return value[value.index(after: semicolon)...].trimmingSpaces()
    }

    /// The address in `Name <x@y>`, `<x@y>` or `x@y`, lowercased domain kept as sent.
    static func address(_ value: String) -> String? {
        var text = value
        if let open = text.lastIndex(of: "<"), let close = text[open...].firstIndex(of: ">") {
            text = String(text[text.index(after: open)..<close])
        }
        let edge: (Character) -> Bool = { $0 == " " || $0 == "\t" || $0 == "\"" || $0 == "'" }
        if let start = text.firstIndex(where: { !edge($0) }), let end = text.lastIndex(where: { !edge($0) }) {
            text = String(text[start...end])
        } else {
            text = ""
        }
        return text.contains("@") && !text.contains(" ") ? text : nil
    }

    /// The first `d.d.d` enhanced status code in a text.
    /// The first `d.d.d` enhanced status code in a text (RFC 3463: class 2, 4
    /// or 5, then one to three digits twice), not inside a longer number or
    /// dotted string. A scan over the bytes: the regular expression it
    /// replaced was a tenth of `bounce --dry-run`.
    static func enhancedStatus(_ text: String) -> String? {
        let bytes = Array(text.utf8)
        func isDigit(_ i: Int) -> Bool { i < bytes.count && bytes[i] >= 0x30 && bytes[i] <= 0x39 }
        /// The end of a run of one to three digits from `i`, or nil.
        func digits(from i: Int) -> Int? {
            var end = i
            while isDigit(end) { end += 1 }
            return (1...3).contains(end - i) ? end : nil
        }
        for i in bytes.indices where bytes[i] == 0x32 || bytes[i] == 0x34 || bytes[i] == 0x35 {
            if i > 0, isDigit(i - 1) || bytes[i - 1] == 0x2E { continue }
            guard i + 1 < bytes.count, bytes[i + 1] == 0x2E, let second = digits(from: i + 2),
                  second < bytes.count, bytes[second] == 0x2E, let third = digits(from: second + 1)
            else { continue }
            return String(decoding: bytes[i..<third], as: UTF8.self)
        }
        return nil
    }

    /// The text reader's regular expressions, built once: a regex literal in a
    /// function body is parsed again at every call (that was half the time of
    /// `bounce --dry-run`).
    enum Patterns {
        nonisolated(unsafe) static let rcptTo = /(?i)rcpt to:\s*<([^>\s]+@[^>\s]+)>/
        nonisolated(unsafe) static let addressOn = /([A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,})\s+on\s/
        nonisolated(unsafe) static let smtpCode = /(?:^|[^\d])([45]\d\d)[ -]/
    }

    /// The Message-ID of the returned message: from a `message/rfc822` or
    /// `text/rfc822-headers` part, else a `Message-ID:` line quoted in a text part.
    static func returnedMessageId(_ parts: [InboundMessage]) -> String? {
        for (index, part) in parts.enumerated() where index > 0 {
            if part.mediaType == "text/rfc822-headers" || part.mediaType == "message/rfc822-headers" {
                if let id = InboundMessage(part.decodedBody + [0x0A, 0x0A]).header("Message-ID") { return id }
            }
        }
        for (index, part) in parts.enumerated() where index > 0 && part.mediaType == "message/rfc822" {
            if let id = InboundMessage(part.decodedBody).header("Message-ID") { return id }
        }
        // A copy quoted in a text body (qmail, Exim): the first part's body too, never its own headers.
        for part in parts where part.mediaType.hasPrefix("text/") {
            for line in InboundMessage.lines(part.decodedBody) {
                let trimmed = line.trimmingSpaces()
                if trimmed.lowercased().hasPrefix("message-id:") {
                    let id = trimmed.dropFirst("message-id:".count).trimmingSpaces()
                    if id.hasPrefix("<") { return id }
                }
            }
        }
        return nil
    }

    /// RFC 3834: an automatic reply, not a delivery report.
    static func isAutoReply(_ message: InboundMessage) -> Bool {
        if let submitted = message.header("Auto-Submitted")?.lowercased(), submitted.hasPrefix("auto-replied"),
            !isFromMailer(message)
        {
            return true
        }
        if message.header("X-Autoreply") != nil || message.header("X-Autorespond") != nil { return true }
        let precedence = message.header("Precedence")?.lowercased()
        if precedence == "auto_reply" { return true }
        let subject = message.header("Subject")?.lowercased() ?? ""
        return ["out of office", "abwesenheitsnotiz", "automatic reply", "automatische antwort", "autoreply", "vacation"]
            .contains { subject.contains($0) } && !isFromMailer(message)
    }

    /// Sent by a mail server's delivery software (MAILER-DAEMON, postmaster, an empty return path).
    static func isFromMailer(_ message: InboundMessage) -> Bool {
        let from = (message.header("From") ?? "").lowercased()
        let returnPath = message.header("Return-Path")?.lowercased()
        return ["mailer-daemon", "postmaster", "mail delivery", "mdaemon", "mail-daemon"].contains { from.contains($0) }
            || returnPath == "<>"
            || (message.header("Subject")?.lowercased()).map {
                ["undeliver", "delivery status", "delivery failure", "failure notice", "returned mail", "unzustellbar",
                 "delivery has failed", "mail delivery failed", "nicht zugestellt"].contains(where: $0.contains)
            } ?? false
    }
}
