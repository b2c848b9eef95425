import Foundation
import Logging
import Synchronization
import Testing

@testable import FlexpostApp

/// The text log format is swift-log's `StreamLogHandler`'s, which operators'
/// log parsers know: `TextLogHandler` must write the same lines.
@Suite("text log lines")
struct TextLogHandlerTests {
    /// Lines a handler wrote, collected instead of going to standard error.
    final class Lines: Sendable {
        private let lines = Mutex<[String]>([])
        var all: [String] { lines.withLock { $0 } }
        func add(_ line: String) { lines.withLock { $0.append(line) } }
    }

    struct Stream: TextOutputStream, Sendable {
        let lines: Lines
        mutating func write(_ string: String) { lines.add(string) }
    }

    struct Failure: Error, CustomStringConvertible {
        var description: String { "relay said 451" }
    }

    /// Both handlers log the same things; every line agrees after its timestamp.
    @Test("same lines as StreamLogHandler: metadata from the logger and the call, errors, labels, levels")
    func sameLinesAsStreamLogHandler() throws {
        let reference = Lines(), ours = Lines()
        for label in ["flexpost", ""] {
            var streamLogger = Logger(label: label) { StreamLogHandler(label: $0, stream: Stream(lines: reference)) }
            var textLogger = Logger(label: label) { label in
                TextLogHandler(label: label) { ours.add(String(decoding: $0, as: UTF8.self)) }
            }
            streamLogger.logLevel = .trace
            textLogger.logLevel = .trace
            func both(_ body: (inout Logger) -> Void) {
                body(&streamLogger)
                body(&textLogger)
            }
            both { $0.info("plain") }
            both { $0[metadataKey: "hb.request.id"] = "42" }
            both { $0.debug("with the logger's metadata") }
            both {
                $0.warning("delivery failed, will retry", metadata: [
                    "delivery.id": "7", "order.id": "ORD-2026-004711", "smtp.code": "451",
                    "smtp.reply": "451 4.3.0 try later", "hb.request.id": "overridden",
                ])
            }
            both {
                $0.error("nested", metadata: ["list": ["a", "b"], "map": ["k": .stringConvertible(3)]])
            }
            both { $0.critical("an error", error: Failure()) }
            both { $0.notice("Grüße – ünïcode ✓", metadata: ["name": "Müller Logistik GmbH"]) }
            both { $0[metadataKey: "hb.request.id"] = nil }
            both { $0.trace("metadata removed again") }
        }
        let expected = reference.all, actual = ours.all
        #expect(expected.count == 14)
        #expect(actual.count == expected.count)
        // (A nested dictionary has one key: its order is not stable even in StreamLogHandler.)
        for (mine, theirs) in zip(actual, expected) {
            // The timestamp is the first word; the rest must be identical bytes.
            #expect(mine.drop(while: { $0 != " " }) == theirs.drop(while: { $0 != " " }))
            #expect(mine.split(separator: " ").first?.count == theirs.split(separator: " ").first?.count)
        }
    }

    /// The timestamp text equals `strftime` of `localtime` for every second
    /// tried, including seconds in a row (the cache) and going back in time.
    @Test("timestamps: strftime of the local time, the cache never serves another second")
    func timestamps() {
        let now = time(nil)
        let seconds: [time_t] = [now, now, now + 1, now - 1, 0, 1_774_746_000, 1_774_746_000 + 3600, 1_792_890_000,
                                 now + 86_400 * 180]
        for second in seconds {
            var moment = second
            var buffer = [Int8](repeating: 0, count: 64)
            let count = strftime(&buffer, buffer.count, "%Y-%m-%dT%H:%M:%S%z", localtime(&moment))
            let reference = String(decoding: buffer[..<count].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            #expect(TextLogHandler.timestamp(second) == reference, "second \(second)")
        }
    }
}
