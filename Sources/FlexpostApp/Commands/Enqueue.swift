import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost enqueue FILE...`: the same intake as the webhook, from files or stdin.
struct Enqueue: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Take events from files (- = stdin): one JSON object, or JSON Lines.")

    @Argument(help: "Event files; - reads standard input.") var files: [String]

    func validate() throws {
        if files.isEmpty { throw ValidationError("name at least one FILE (or - for stdin)") }
    }

    func run() async throws {
        var inputs: [(String, Data)] = []
        // Every input is read before the first event is taken.
        for file in files {
            inputs.append((file == "-" ? "stdin" : file, try readInput(file)))
        }
        let runtime = try await startRuntime()
        let intake = runtime.intake(clock: SystemClock())
        var failed = false
        let events = inputs.flatMap { Self.events(in: $0.1) }
        for (index, event) in events.enumerated() {
            let result: IntakeResult
            do {
                result = try await intake.submit(event)
            } catch {
                // A store fault part-way: what was stored stays stored, and the same
                // input can simply be taken again (stored events are duplicates).
                FlexpostMain.printError("flexpost: stopped at event \(index + 1) of \(events.count): \(error); "
                                        + "the events before it have their lines above: take the same input again "
                                        + "(what was stored is answered duplicate)")
                throw CommandExit(code: 1)
            }
            print(result.line)
            failed = failed || result.isFailure
        }
        if failed { throw CommandExit(code: 1) }
    }

    /// One JSON object (pretty-printed or not), or else one event per non-blank line.
    static func events(in data: Data) -> [[UInt8]] {
        if (try? JSONSerialization.jsonObject(with: data)) is [String: Any] {
            return [Array(data)]
        }
        return data.split(separator: UInt8(ascii: "\n"))
            .filter { !$0.allSatisfy { $0 == 32 || $0 == 9 || $0 == 13 } }
            .map { Array($0) }
    }
}
