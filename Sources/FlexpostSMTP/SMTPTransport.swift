import Dispatch
import FlexpostCore

/// SMTP delivery through libcurl. Each connection is confined to its own
/// serial dispatch queue, so blocking `curl_easy_perform` never runs on
/// Swift's cooperative thread pool; the connection is reused across messages.
public final class SMTPTransport: MailTransport {
    private let queue: DispatchQueue
    // Safe to share: `connection` is only touched inside `queue`'s serial blocks.
    private let connection: SMTPConnection

    public init(configuration: SMTPConfiguration, label: String = "flexpost.smtp") {
        self.queue = DispatchQueue(label: label)
        self.connection = SMTPConnection(configuration: configuration)
    }

    public func send(_ message: [UInt8], envelope: Envelope) async -> TransportOutcome {
        await withCheckedContinuation { continuation in
            queue.async { [connection] in
                continuation.resume(returning: connection.send(message, envelope: envelope))
            }
        }
    }
}
