import ArgumentParser
import FlexpostCore
import Foundation

// The command line's value types, parsed by swift-argument-parser itself: a
// wrong value is a usage error (exit 2) naming the option and the values it
// takes, before the command runs.

extension DeliveryKind: ExpressibleByArgument {}
extension DeliveryState: ExpressibleByArgument {}

/// An RFC 3339 date-time given on the command line (`--now`, `--since`).
struct Instant: ExpressibleByArgument, Sendable {
    let date: Date

    init?(argument: String) {
        guard let date = RFC3339.parse(argument) else { return nil }
        self.date = date
    }

    static var defaultValueDescription: String { "RFC 3339, e.g. 2026-12-01T07:00:30Z" }
}

/// `--reason` and `--actor`, which every resend records (R7): held to the
/// same rule as the API's and the console's (``ResendRequest/recordedText(_:field:)``).
struct ResendRecord: ParsableArguments {
    @Option(help: "Why the mail is resent (recorded).") var reason: String
    @Option(help: "Who asks for it (recorded).") var actor: String

    func validate() throws {
        do {
            _ = try ResendRequest.recordedText(reason, field: "--reason")
            _ = try ResendRequest.recordedText(actor, field: "--actor")
        } catch {
            throw ValidationError("\(error.field) \(error.rule)")
        }
    }
}
