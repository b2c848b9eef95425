import FlexpostCore
import Foundation

/// The generated encryption key used when `FLEXPOST_ENCRYPTION_KEY` is unset:
/// created once (mode 0600, exclusively) and read from then on.
enum KeyFile {
    static func loadOrCreate(path: String) throws(ConfigurationError) -> Secret {
        let manager = FileManager.default
        if !manager.fileExists(atPath: path) {
            let directory = (path as NSString).deletingLastPathComponent
            if !directory.isEmpty {
                try? manager.createDirectory(atPath: directory, withIntermediateDirectories: true)
            }
            let key = EncryptionKeyRing.generateKeyText()
            // O_EXCL: of two processes starting together, one creates, the other reads.
            let fd = open(path, O_WRONLY | O_CREAT | O_EXCL, 0o600)
            if fd >= 0 {
                let bytes = Array((key.exposedValue + "\n").utf8)
                let written = bytes.withUnsafeBytes { write(fd, $0.baseAddress, $0.count) }
                fsync(fd)
                close(fd)
                guard written == bytes.count else { throw ConfigurationError("cannot write the key file \(path)") }
                return key
            } else if errno != EEXIST {
                throw ConfigurationError("cannot create the key file \(path): \(String(cString: strerror(errno)))")
            }
        }
        for _ in 0..<50 {
            if let text = try? String(contentsOfFile: path, encoding: .utf8) {
                let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
                if !trimmed.isEmpty { return Secret(trimmed) }
            }
            usleep(20_000)
        }
        throw ConfigurationError("cannot read the key file \(path)")
    }

    /// The file's permission bits, nil when it cannot be read.
    static func permissions(_ path: String) -> Int? {
        (try? FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int) ?? nil
    }
}
