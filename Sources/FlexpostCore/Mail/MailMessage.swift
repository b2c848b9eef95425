import Crypto
import Foundation

/// One e-mail as flexpost sends it: `multipart/alternative` with a text part
/// and an HTML part, 7-bit on the wire, CRLF line ends (SPEC §5, RFC 5322,
/// RFC 2045–2047). Rendering is pure: the same message gives the same bytes.
public struct MailMessage: Sendable, Equatable {
    public var from: Contact
    public var to: Contact
    public var subject: String
    public var textBody: String
    public var htmlBody: String
    public var date: Date
    public var timeZone: TimeZone
    public var messageID: String
    public var language: Language

    public init(from: Contact, to: Contact, subject: String, textBody: String, htmlBody: String,
                date: Date, timeZone: TimeZone, messageID: String, language: Language) {
        self.from = from
        self.to = to
        self.subject = subject
        self.textBody = textBody
        self.htmlBody = htmlBody
        self.date = date
        self.timeZone = timeZone
        self.messageID = messageID
        self.language = language
    }

    /// The MIME boundary: derived from the Message-ID, and safe because
    /// quoted-printable output never contains "=_".
    var boundary: String {
        "=_flexpost_" + SHA256.hash(data: Data(messageID.utf8)).prefix(12).lowercaseHex
    }

    public func render() throws(HeaderEncoding.InvalidHeaderValue) -> [UInt8] {
        try HeaderEncoding.checkNoControls(messageID, header: "Message-ID")
        guard messageID.hasPrefix("<"), messageID.hasSuffix(">"), !messageID.utf8.contains(0x20),
            messageID.unicodeScalars.allSatisfy({ $0.isASCII })
        else { throw HeaderEncoding.InvalidHeaderValue(header: "Message-ID") }

        let boundary = self.boundary
        let headers: [(String, String)] = [
            ("Date", MailDate.format(date, timeZone: timeZone)),
            ("From", try HeaderEncoding.mailbox(name: from.name, address: from.email, header: "From")),
            ("To", try HeaderEncoding.mailbox(name: to.name, address: to.email, header: "To")),
            ("Subject", try HeaderEncoding.unstructured(subject, header: "Subject")),
            ("Message-ID", messageID),
            ("MIME-Version", "1.0"),
            ("Auto-Submitted", "auto-generated"),
            ("X-Auto-Response-Suppress", "All"),
            ("Content-Language", language.rawValue),
            ("Content-Type", "multipart/alternative;\r\n boundary=\"\(boundary)\""),
        ]
        var out: [UInt8] = []
        out.reserveCapacity(textBody.utf8.count * 9 / 8 + htmlBody.utf8.count * 9 / 8 + 2048)
        for (name, value) in headers {
            out.append(contentsOf: name.utf8)
            out.append(contentsOf: ": ".utf8)
            out.append(contentsOf: value.utf8)
            out.append(contentsOf: "\r\n".utf8)
        }
        out.append(contentsOf: "\r\nThis is a multi-part message in MIME format.\r\n".utf8)
        for (type, body) in [("text/plain", textBody), ("text/html", htmlBody)] {
            out.append(contentsOf: "\r\n--".utf8)
            out.append(contentsOf: boundary.utf8)
            out.append(contentsOf: "\r\nContent-Type: ".utf8)
            out.append(contentsOf: type.utf8)
            out.append(contentsOf: "; charset=utf-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n".utf8)
            QuotedPrintable.encode(body, into: &out)
        }
        out.append(contentsOf: "\r\n--".utf8)
        out.append(contentsOf: boundary.utf8)
        out.append(contentsOf: "--\r\n".utf8)
        return out
    }
}
