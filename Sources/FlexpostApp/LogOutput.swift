import FlexpostCore
import Foundation
import Logging

/// Log lines on stderr: `text` (swift-log's stream format) or `json`, one
/// object per line with dot-separated metadata keys.
enum LogOutput {
    static func bootstrap(format: String) {
        LoggingSystem.bootstrap { label in
            format == "json" ? JSONLogHandler(label: label) as any LogHandler : StreamLogHandler.standardError(label: label)
        }
    }
}

struct JSONLogHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        let level = event.level, message = event.message, extra = event.metadata
        var object: [String: String] = ["time": Self.timestamp(Date()), "level": level.rawValue, "label": label,
                                        "message": message.description]
        for (key, value) in self.metadata.merging(extra ?? [:], uniquingKeysWith: { $1 }) {
            object[key] = value.description
        }
        var line = CanonicalJSON.bytes(object)
        line.append(10)
        FileHandle.standardError.write(Data(line))
    }
}

extension JSONLogHandler {
    /// `2026-12-01T07:00:00.123Z`, without a formatter object per line.
    static func timestamp(_ date: Date) -> String {
        let whole = RFC3339.format(date)
        let millis = Int((date.timeIntervalSince1970 - date.timeIntervalSince1970.rounded(.down)) * 1000)
        return whole.dropLast() + "." + String(1000 + millis).dropFirst() + "Z"
    }
}
