import Foundation

/// The SMTP envelope of one message: validated addresses only, so no CR, LF
/// or other control character can reach `MAIL FROM` or `RCPT TO`.
public struct Envelope: Sendable, Equatable {
    public var sender: EmailAddress
    public var recipients: [EmailAddress]
    public init(sender: EmailAddress, recipients: [EmailAddress]) {
        self.sender = sender
        self.recipients = recipients
    }
}

/// How a transport attempt ended. The reply never holds a secret.
public enum TransportOutcome: Sendable, Equatable {
    /// The server took responsibility for the message.
    case accepted(code: Int, reply: String)
    /// Try again later: 4xx, timeouts, refused or dropped connections, TLS or AUTH trouble.
    case transientFailure(code: Int?, reply: String)
    /// The server refused the message for good (5xx).
    case permanentFailure(code: Int?, reply: String)
}

/// Something that carries finished message bytes to their recipients:
/// SMTP through libcurl, or the development outbox directory.
public protocol MailTransport: Sendable {
    func send(_ message: [UInt8], envelope: Envelope) async -> TransportOutcome
    /// How many `send` calls may usefully run at once (SMTP: the connection pool's size).
    var concurrency: Int { get }
    /// R8 for a transport that keeps copies of what it carried (the outbox):
    /// deletes those written before `cutoff`; returns how many.
    func purge(writtenBefore cutoff: Date) async throws -> Int
}

extension MailTransport {
    public var concurrency: Int { 1 }
    public func purge(writtenBefore cutoff: Date) async throws -> Int { 0 }
}

/// Checks that message bytes are what SMTP without 8BITMIME may carry:
/// 7-bit, CRLF line ends only, no NUL, lines of at most 998 octets.
public enum WireFormat {
    public static func violation(in message: [UInt8]) -> String? {
        message.withUnsafeBufferPointer(violation(in:))
    }

    static func violation(in message: UnsafeBufferPointer<UInt8>) -> String? {
        guard let base = message.baseAddress else { return nil }
        let count = message.count
        var lineLength = 0
        var previous: UInt8 = 0
        var index = 0
        while index < count {
            // Eight bytes at a time while they are plain text: none 8-bit and none
            // below 0x0E (NUL, LF and CR are all below), and no CR just before.
            if previous != 13 && count - index >= 8 {
                let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self)
                if !ByteWords.hasHighByte(word) && !ByteWords.hasByteBelow(0x0E, word) {
                    lineLength += 8
                    if lineLength > 998 { return "message has a line longer than 998 octets" }
                    previous = base[index + 7]
                    index += 8
                    continue
                }
            }
            let byte = base[index]
            if byte >= 0x80 { return "message contains 8-bit data" }
            if byte == 0 { return "message contains NUL" }
            if byte == 10 && previous != 13 { return "message contains a bare LF" }
            if previous == 13 && byte != 10 { return "message contains a bare CR" }
            if byte == 10 {
                lineLength = 0
            } else if byte != 13 {
                lineLength += 1
                if lineLength > 998 { return "message has a line longer than 998 octets" }
            }
            previous = byte
            index += 1
        }
        return nil
    }
}
