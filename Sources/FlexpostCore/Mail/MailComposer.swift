import Foundation

/// Turns a delivery's content into a complete ``MailMessage``: templates,
/// sender, date and Message-ID. Pure; the caller supplies the time.
public struct MailComposer: Sendable {
    public let templates: MailTemplates
    public let sender: Contact
    public let timeZone: TimeZone

    public init(templates: MailTemplates, sender: Contact, timeZone: TimeZone) {
        self.templates = templates
        self.sender = sender
        self.timeZone = timeZone
    }

    /// Why a message could not be composed (a poison delivery, not a transport fault).
    public struct CompositionError: Error, Sendable, CustomStringConvertible {
        public let problem: String
        public var description: String { problem }
    }

    public func compose(_ content: some MailContent, to recipient: Contact, language: Language,
                        messageID: String, date: Date) throws(CompositionError) -> MailMessage {
        let view = content.view(dates: LocalDateFormat(timeZone: timeZone, language: language))
        let subject = Self.singleLine(templates.render(content.kind, language, .subject, view: view)).trimmingSpaces()
        let text = templates.render(content.kind, language, .text, view: view)
        let html = templates.render(content.kind, language, .html, view: view)
        guard !subject.isEmpty else { throw CompositionError(problem: "the subject template rendered empty") }
        guard text.unicodeScalars.contains(where: { !$0.properties.isWhitespace }),
            html.unicodeScalars.contains(where: { !$0.properties.isWhitespace })
        else { throw CompositionError(problem: "a body template rendered empty") }
        return MailMessage(
            from: sender, to: recipient, subject: subject, textBody: text, htmlBody: html,
            date: date, timeZone: timeZone, messageID: messageID, language: language)
    }

    /// The subject template's output on one line: the pieces between line
    /// breaks, empty ones dropped, joined by single spaces — what
    /// `split(whereSeparator: \.isNewline).joined(separator: " ")` gives. A
    /// line break always stands alone as a grapheme cluster (CR LF as one),
    /// so splitting on the scalars is the same split, without grapheme breaking.
    static func singleLine(_ text: String) -> String {
        var result = String.UnicodeScalarView()
        var inPiece = false
        var separatorDue = false
        for scalar in text.unicodeScalars {
            switch scalar.value {
            case 0x0A...0x0D, 0x85, 0x2028, 0x2029:
                if inPiece {
                    separatorDue = true
                    inPiece = false
                }
            default:
                if separatorDue {
                    result.append(" ")
                    separatorDue = false
                }
                result.append(scalar)
                inPiece = true
            }
        }
        return String(result)
    }
}
