import ArgumentParser
import FlexpostCore
import FlexpostEngine
import Foundation

/// `flexpost bounce [--dry-run] [--json] FILE...` (SPEC §6): one raw message
/// per file (`-` = stdin), made to be an MTA's pipe transport. Exit status
/// for MTAs: 0 recorded or ignored (a bounce is never bounced), 75
/// (EX_TEMPFAIL) when the store cannot take it, so that the MTA keeps the
/// message and tries again.
struct BounceCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "bounce",
        abstract: "Take in bounces (raw messages; - = stdin): a failed delivery becomes bounced, a delay is noted.")

    @Flag(help: "Read and classify only; store nothing.") var dryRun = false
    @Flag(help: "With --dry-run: one JSON object per reported recipient, per line.") var json = false
    @Argument(help: "Raw RFC 5322 messages (- = stdin).") var files: [String] = ["-"]

    static let temporaryFailure: Int32 = 75

    func run() async throws {
        var inputs: [(name: String, bytes: [UInt8])] = []
        for file in files { inputs.append((file, Array(try readInput(file)))) }
        let runtime: Runtime
        do {
            runtime = try await startRuntime(mail: false)
        } catch {
            // A bounce must not be bounced for a fault of ours: the MTA keeps it and tries again.
            FlexpostMain.printError("flexpost: bounce not taken, try again later: \(error)")
            throw CommandExit(code: Self.temporaryFailure)
        }
        try? await runtime.warnIfDeliveryEventsUnset()
        let intake = runtime.bounceIntake(clock: SystemClock())
        for (name, bytes) in inputs {
            do {
                if dryRun {
                    let report = BounceReport.read(bytes)
                    let delivery = try await intake.match(report)?.deliveryId
                    print(json ? Self.jsonLines(name, report, delivery) : Self.line(name, report, delivery, outcome: nil))
                } else {
                    let taken = try await intake.take(bytes)
                    print(Self.line(name, taken.report, taken.deliveryId, outcome: taken.outcome))
                }
            } catch {
                FlexpostMain.printError("flexpost: bounce \(name) not taken, try again later: \(error)")
                throw CommandExit(code: Self.temporaryFailure)
            }
        }
    }

    static func line(_ name: String, _ report: BounceReport, _ delivery: Int64?, outcome: BounceOutcome?) -> String {
        let what: String = switch outcome {
        case nil: report.bounceClass.rawValue
        case .bounced: "bounced"
        case .delayNoted: "delay noted"
        case .duplicate: "duplicate"
        case .ignored(let why): "ignored (\(why))"
        case .unmatched: "unmatched (\(report.bounceClass.rawValue))"
        }
        let entry = report.recipients.first { $0.bounceClass == report.bounceClass } ?? report.recipients.first
        return "\(what) \(name)" + (delivery.map { " delivery \($0)" } ?? "")
            + (entry?.status.map { " \($0)" } ?? "") + (entry?.recipient.map { " \($0)" } ?? "")
    }

    /// SPEC §6: `{"file", "class", "action", "status", "recipient", "diagnostic", "messageId", "delivery"}` per recipient.
    static func jsonLines(_ name: String, _ report: BounceReport, _ delivery: Int64?) -> String {
        let entries: [BouncedRecipient?] = report.recipients.isEmpty ? [nil] : report.recipients
        return entries.map { entry -> String in
            let object: [String: Any] = [
                "file": name, "class": (entry?.bounceClass ?? report.bounceClass).rawValue,
                "action": entry?.action ?? NSNull(), "status": entry?.status ?? NSNull(),
                "recipient": entry?.recipient ?? NSNull(), "diagnostic": entry?.diagnostic ?? NSNull(),
                "messageId": report.returnedMessageId ?? NSNull(), "delivery": delivery.map { NSNumber(value: $0) } ?? NSNull(),
            ]
            return String(decoding: CanonicalJSON.bytes(object), as: UTF8.self)
        }.joined(separator: "\n")
    }
}
