import Foundation

/// The pre-RFC 3464 text bounces: qmail, older Exim and Sendmail, Exchange 2003.
enum TextBounce {
    /// Whether `needle` occurs in `haystack`: a plain byte search (the
    /// generic and Foundation searches cost a third of the reader's time).
    static func contains(_ haystack: [UInt8], _ needle: [UInt8]) -> Bool {
        guard let first = needle.first, haystack.count >= needle.count else { return needle.isEmpty }
        var i = 0
        let last = haystack.count - needle.count
        while i <= last {
            if haystack[i] == first {
                var j = 1
                while j < needle.count && haystack[i + j] == needle[j] { j += 1 }
                if j == needle.count { return true }
            }
            i += 1
        }
        return false
    }

    static func read(_ text: String) -> BouncedRecipient? {
        let lines = InboundMessage.lines(Array(text.utf8))
        let lower = text.lowercased()
        var recipient: String?
        for line in lines {
            let trimmed = line.trimmingSpaces()
            // qmail: `<x@y>:`; Exim: an indented bare address after "failed:"; Sendmail: `<x@y>` on its own line.
            if trimmed.hasPrefix("<"), let address = BounceReport.address(trimmed),
                trimmed.hasSuffix(">:") || trimmed.hasSuffix(">") || trimmed.contains(">...")
            {
                recipient = address
                break
            }
            if line.hasPrefix("  "), !trimmed.contains(" "), let address = BounceReport.address(trimmed) {
                recipient = address
                break
            }
        }
        if recipient == nil {
            // "RCPT TO:<x@y>" in a quoted SMTP dialogue, or Exchange's "x@y on <date>".
            if let match = text.firstMatch(of: BounceReport.Patterns.rcptTo) {
                recipient = String(match.1)
            } else if let match = text.firstMatch(of: BounceReport.Patterns.addressOn) {
                recipient = String(match.1)
            }
        }
        let status = BounceReport.enhancedStatus(text)
        let smtp = text.firstMatch(of: BounceReport.Patterns.smtpCode).map { String($0.1) }
        let lowerBytes = Array(lower.utf8)
        func says(_ phrase: String) -> Bool { Self.contains(lowerBytes, Array(phrase.utf8)) }
        let delayed = ["will continue trying", "will keep trying", "delayed", "has not yet been delivered",
                       "temporarily", "still trying"].contains(where: says)
        let failed = ["permanent", "unknown user", "user unknown", "does not exist", "no such user", "mailbox unavailable",
                      "could not be delivered", "failed", "recipient rejected", "undeliverable"].contains(where: says)
        let bounceClass: BounceClass
        if let status {
            bounceClass = status.hasPrefix("5") ? .failed : status.hasPrefix("4") ? (failed && !delayed ? .failed : .delayed) : .unknown
        } else if let smtp {
            bounceClass = smtp.hasPrefix("5") ? .failed : .delayed
        } else if delayed {
            bounceClass = .delayed
        } else if failed {
            bounceClass = .failed
        } else {
            return nil
        }
        // Without a recipient a text is not read as a bounce (it could be anything).
        guard recipient != nil else { return nil }
        let diagnostic = lines.first { line in
            (smtp.map { line.contains($0) } ?? false) || (status.map { line.contains($0) } ?? false)
        }?.trimmingSpaces()
        return BouncedRecipient(recipient: recipient, action: bounceClass == .failed ? "failed" : bounceClass == .delayed ? "delayed" : nil,
                                status: status ?? smtp.map { "\($0.prefix(1)).0.0" }, diagnostic: diagnostic, remoteMTA: nil,
                                bounceClass: bounceClass)
    }
}
