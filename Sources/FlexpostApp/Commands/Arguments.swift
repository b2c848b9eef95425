import ArgumentParser
import FlexpostCore
import Foundation

// The command line's value types, parsed by swift-argument-parser itself: a
// wrong value is a usage error (exit 2) naming the option and the values it
// takes, before the command runs.

extension DeliveryKind: ExpressibleByArgument {}
extension DeliveryState: ExpressibleByArgument {}
extension SupportRole: ExpressibleByArgument {}

/// An RFC 3339 date-time given on the command line (`--now`, `--since`).
struct Instant: ExpressibleByArgument, Sendable {
    let date: Date

    init?(argument: String) {
        guard let date = RFC3339.parse(argument) else { return nil }
        self.date = date
    }

    static var defaultValueDescription: String { "RFC 3339, e.g. 2026-12-01T07:00:30Z" }
}

/// `--reason` and `--actor`, which every support and operator action records
/// (resend, hold, release, cancel): held to the same rule as the API's and
/// the console's (``ResendRequest/recordedText(_:field:)``).
struct ActionRecord: ParsableArguments {
    @Option(help: "Why (recorded in the order's history).") var reason: String
    @Option(help: "Who does it (recorded in the order's history).") var actor: String

    func validate() throws {
        do {
            _ = try ResendRequest.recordedText(reason, field: "--reason")
            _ = try ResendRequest.recordedText(actor, field: "--actor")
        } catch {
            throw ValidationError("\(error.field) \(error.rule)")
        }
    }
}
