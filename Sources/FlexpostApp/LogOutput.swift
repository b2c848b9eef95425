import FlexpostCore
import Foundation
import Logging
import Synchronization

/// Log lines on stderr: `text` (swift-log's stream format) or `json`, one
/// object per line with dot-separated metadata keys.
enum LogOutput {
    static func bootstrap(format: String) {
        LoggingSystem.bootstrap { label in
            format == "json" ? JSONLogHandler(label: label) as any LogHandler : TextLogHandler(label: label)
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

/// swift-log's `StreamLogHandler` text lines, byte for byte
/// (`2026-12-01T08:00:00+0100 info flexpost: key=value [source] message`),
/// at less cost per line. `StreamLogHandler` formats its whole metadata
/// again on every change (Hummingbird sets a request id per request) and
/// calls glibc's `localtime()`, which looks at `/etc/localtime` on every
/// call; here metadata is formatted only when a line is written, and the
/// timestamp text is made once per second. `TextLogHandlerTests` compares
/// lines with `StreamLogHandler`'s.
struct TextLogHandler: LogHandler {
    let label: String
    var metadata: Logger.Metadata = [:]
    var logLevel: Logger.Level = .info
    var metadataProvider: Logger.MetadataProvider? = LoggingSystem.metadataProvider
    /// Where a finished line goes (standard error unless a test collects them).
    let output: @Sendable ([UInt8]) -> Void

    init(label: String, output: @escaping @Sendable ([UInt8]) -> Void = TextLogHandler.writeToStandardError) {
        self.label = label
        self.output = output
    }

    subscript(metadataKey key: String) -> Logger.Metadata.Value? {
        get { metadata[key] }
        set { metadata[key] = newValue }
    }

    func log(event: LogEvent) {
        var merged = metadata
        if let provided = metadataProvider?.get(), !provided.isEmpty {
            merged.merge(provided, uniquingKeysWith: { $1 })
        }
        if let explicit = event.metadata, !explicit.isEmpty {
            merged.merge(explicit, uniquingKeysWith: { $1 })
        }
        if let error = event.error {
            merged["error.message"] = "\(error)"
            merged["error.type"] = "\(String(reflecting: type(of: error)))"
        }
        var line = Self.timestamp(time(nil))
        line += " "
        line += event.level.rawValue
        if !label.isEmpty {
            line += " "
            line += label
        }
        line += ":"
        for (key, value) in merged.sorted(by: { $0.key < $1.key }) {
            line += " "
            line += key
            line += "="
            line += value.description
        }
        line += " ["
        line += event.source
        line += "] "
        line += event.message.description
        line += "\n"
        output(Array(line.utf8))
    }

    /// The last second's timestamp text, shared by every handler.
    private static let lastTimestamp = Mutex<(second: Int, text: String)>((-1, ""))

    /// `strftime("%Y-%m-%dT%H:%M:%S%z")` of the local time, as `StreamLogHandler` prints it.
    static func timestamp(_ second: time_t) -> String {
        if let cached = lastTimestamp.withLock({ $0.second == Int(second) ? $0.text : nil }) { return cached }
        var moment = second
        var local = tm()
        // localtime_r reads the zone once; localtime() checks /etc/localtime every call.
        guard localtime_r(&moment, &local) != nil else { return "<unknown>" }
        var buffer = [Int8](repeating: 0, count: 64)
        let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", &local)
        let text = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
        lastTimestamp.withLock { $0 = (Int(second), text) }
        return text
    }

    /// One `write(2)` per line, as `StreamLogHandler`'s unbuffered standard error does.
    @Sendable static func writeToStandardError(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { raw in
            var offset = 0
            while offset < raw.count {
                let written = write(2, raw.baseAddress! + offset, raw.count - offset)
                if written > 0 {
                    offset += written
                } else if written < 0 && errno == EINTR {
                    continue
                } else {
                    return
                }
            }
        }
    }
}
