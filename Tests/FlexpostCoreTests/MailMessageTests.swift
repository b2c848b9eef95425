import FlexpostCore
import Foundation
import Testing

/// Mail on the wire: CRLF, 7-bit, RFC 2047 headers, QP bodies, no header injection.
@Suite("MIME building")
struct MailMessageTests {
    func message(subject: String = "Ihre Zugangsdaten für CompanyFlex – Auftrag ORD-1", text: String = "Hallo\nWelt",
                 toName: String = "Erika Müller") -> MailMessage {
        MailMessage(
            from: Contact(name: "CompanyFlex", email: try! EmailAddress(validating: "noreply@companyflex.example")),
            to: Contact(name: toName, email: try! EmailAddress(validating: "erika@example.com")),
            subject: subject, textBody: text, htmlBody: "<p>Hallo &amp; Grüße</p>",
            date: RFC3339.parse("2026-12-01T07:00:00Z")!, timeZone: TimeZone(identifier: "Europe/Berlin")!,
            messageID: "<abc@companyflex.example>", language: .de)
    }

    func lines(_ bytes: [UInt8]) -> [String] {
        String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n")
    }

    @Test("7-bit, CRLF only, short lines")
    func wireFormat() throws {
        let long = String(repeating: "Grüße aus Köln – ", count: 40) + "\n.leading dot\nFrom here\n"
        let bytes = try message(subject: String(repeating: "Überlänge ", count: 20), text: long).render()
        #expect(WireFormat.violation(in: bytes) == nil)
        #expect(bytes.allSatisfy { $0 < 0x80 })
        for line in lines(bytes) {
            #expect(line.utf8.count <= 78, "line too long: \(line)")
        }
    }

    @Test("required headers and multipart/alternative, text before HTML")
    func headers() throws {
        let text = String(decoding: try message().render(), as: UTF8.self)
        #expect(text.hasPrefix("Date: Tue, 01 Dec 2026 08:00:00 +0100\r\n"))
        for header in ["From: CompanyFlex <noreply@companyflex.example>\r\n", "Message-ID: <abc@companyflex.example>\r\n",
                       "MIME-Version: 1.0\r\n", "Auto-Submitted: auto-generated\r\n", "Content-Type: multipart/alternative;"] {
            #expect(text.contains(header), "missing \(header)")
        }
        let plain = try #require(text.range(of: "Content-Type: text/plain; charset=utf-8"))
        let html = try #require(text.range(of: "Content-Type: text/html; charset=utf-8"))
        #expect(plain.lowerBound < html.lowerBound)
        #expect(text.hasSuffix("--\r\n"))
    }

    @Test("non-ASCII subject and names become RFC 2047 encoded words of at most 75 characters")
    func encodedWords() throws {
        let subject = try HeaderEncoding.unstructured(String(repeating: "Zugangsdaten für Köln ", count: 5), header: "Subject")
        let words = subject.components(separatedBy: "\r\n ")
        #expect(words.count > 1)
        var decoded = ""
        for word in words {
            #expect(word.count <= 75)
            #expect(word.hasPrefix("=?utf-8?B?") && word.hasSuffix("?="))
            decoded += String(decoding: Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))!, as: UTF8.self)
        }
        #expect(decoded == String(repeating: "Zugangsdaten für Köln ", count: 5))
        #expect(try HeaderEncoding.displayName("Erika Müller", header: "To") == "=?utf-8?B?RXJpa2EgTcO8bGxlcg==?=")
        #expect(try HeaderEncoding.displayName("IT Service Desk", header: "To") == "IT Service Desk")
        #expect(try HeaderEncoding.displayName("Müller, Erika", header: "To").hasPrefix("=?utf-8?B?"))
        #expect(try HeaderEncoding.displayName("Doe, John \"JD\"", header: "To") == "\"Doe, John \\\"JD\\\"\"")
    }

    @Test("CR, LF and control characters in header values are refused", arguments: [
        "Hallo\r\nBcc: victim@example.com", "Hallo\nX: y", "Hallo\rX", "tab\there", "nul\u{0}", "del\u{7F}",
        "next line\u{85}", "line\u{2028}separator",
    ])
    func headerInjection(value: String) {
        #expect(throws: HeaderEncoding.InvalidHeaderValue.self) { try message(subject: value).render() }
        #expect(throws: HeaderEncoding.InvalidHeaderValue.self) { try message(toName: value).render() }
    }

    @Test("quoted-printable: soft breaks at 76, trailing space and leading dot encoded, round trip")
    func quotedPrintable() {
        let text = String(repeating: "ä", count: 100) + " \n.dot\nFrom mbox\n" + String(repeating: "x", count: 200)
        let encoded = QuotedPrintable.encode(text)
        let lines = String(decoding: encoded, as: UTF8.self).components(separatedBy: "\r\n")
        #expect(lines.allSatisfy { $0.utf8.count <= 76 })
        #expect(lines.contains("=2Edot"))
        #expect(lines.contains("=46rom mbox"))
        #expect(!lines.contains { $0.hasSuffix(" ") })
        #expect(Self.decodeQP(encoded) == text.replacingOccurrences(of: "\n", with: "\r\n"))
    }

    static func decodeQP(_ bytes: [UInt8]) -> String {
        var out: [UInt8] = []
        var i = 0
        while i < bytes.count {
            if bytes[i] == UInt8(ascii: "=") {
                if bytes[i + 1] == 13 { i += 3; continue }
                out.append(UInt8(String(decoding: bytes[(i + 1)...(i + 2)], as: UTF8.self), radix: 16)!)
                i += 3
            } else {
                out.append(bytes[i])
                i += 1
            }
        }
        return String(decoding: out, as: UTF8.self)
    }

    @Test("the wire check finds bare LF, 8-bit data and overlong lines")
    func wireCheck() {
        #expect(WireFormat.violation(in: Array("a\r\nb\r\n".utf8)) == nil)
        #expect(WireFormat.violation(in: Array("a\nb".utf8)) != nil)
        #expect(WireFormat.violation(in: Array("a\rb".utf8)) != nil)
        #expect(WireFormat.violation(in: Array("ä".utf8)) != nil)
        #expect(WireFormat.violation(in: Array(String(repeating: "x", count: 999).utf8)) != nil)
    }
}
