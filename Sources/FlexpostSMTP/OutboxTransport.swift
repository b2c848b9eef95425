import FlexpostCore
import Foundation

/// Development transport (no `FLEXPOST_SMTP_URL`): writes each message as one
/// `.eml` file, byte for byte what SMTP would carry, into an outbox directory.
/// The files hold access data in plain text: the directory is 0700, each file
/// 0600, and R8 deletes them with the secrets (``purge(writtenBefore:)``).
public struct OutboxTransport: MailTransport {
    public let directory: URL

    public init(directory: URL) throws {
        self.directory = directory
        let manager = FileManager.default
        try manager.createDirectory(at: directory, withIntermediateDirectories: true,
                                    attributes: [.posixPermissions: 0o700])
        // An outbox made by an earlier version, or by hand, is closed too.
        try manager.setAttributes([.posixPermissions: 0o700], ofItemAtPath: directory.path)
    }

    public func purge(writtenBefore cutoff: Date) async throws -> Int {
        let directory = self.directory
        return try await withCheckedThrowingContinuation { continuation in
            DispatchQueue.global().async {
                do {
                    let manager = FileManager.default
                    var removed = 0
                    for url in try manager.contentsOfDirectory(at: directory, includingPropertiesForKeys: [.contentModificationDateKey])
                    where url.pathExtension == "eml" {
                        guard let written = try url.resourceValues(forKeys: [.contentModificationDateKey]).contentModificationDate,
                            written < cutoff
                        else { continue }
                        try manager.removeItem(at: url)
                        removed += 1
                    }
                    continuation.resume(returning: removed)
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
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
                    guard FileManager.default.createFile(
                        atPath: temporary.path, contents: Data(message), attributes: [.posixPermissions: 0o600])
                    else { throw CocoaError(.fileWriteUnknown) }
                    try FileManager.default.moveItem(at: temporary, to: target)
                    continuation.resume(returning: .accepted(code: 250, reply: "written to outbox \(name)"))
                } catch {
                    continuation.resume(returning: .transientFailure(code: nil, reply: "outbox write failed"))
                }
            }
        }
    }
}
