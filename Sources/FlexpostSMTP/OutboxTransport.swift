import FlexpostCore
import Foundation

/// Development transport (no `FLEXPOST_SMTP_URL`): writes each message as one
/// `.eml` file, byte for byte what SMTP would carry, into an outbox directory.
public struct OutboxTransport: MailTransport {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    public func send(_ message: [UInt8], envelope: Envelope) async -> TransportOutcome {
        if let problem = WireFormat.violation(in: message) {
            return .permanentFailure(code: nil, reply: "refused before writing: \(problem)")
        }
        let directory = self.directory
        return await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                let stamp = Int(Date().timeIntervalSince1970 * 1000)
                let name = "\(stamp)-\(UUID().uuidString.lowercased()).eml"
                let target = directory.appendingPathComponent(name)
                let temporary = directory.appendingPathComponent("." + name + ".tmp")
                do {
                    try Data(message).write(to: temporary, options: .atomic)
                    try FileManager.default.moveItem(at: temporary, to: target)
                    continuation.resume(returning: .accepted(code: 250, reply: "written to outbox \(name)"))
                } catch {
                    continuation.resume(returning: .transientFailure(code: nil, reply: "outbox write failed"))
                }
            }
        }
    }
}
