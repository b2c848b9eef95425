import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost drain`: one delivery pass for cron.
struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliver everything due at T (default: now), then exit.")

    @Option(help: "Act as if the time were T (RFC 3339).") var now: String?
    @Option(help: "Deliver at most N deliveries.") var limit: Int?

    func validate() throws {
        _ = try parseInstant(now)
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let runtime = try startRuntime()
        let clock: any WallClock = try parseInstant(now).map { FixedClock($0) } ?? SystemClock()
        let worker = runtime.worker(transport: try runtime.makeTransport())
        let summary = try await worker.runPass(clock: clock, limit: limit)
        print("drain: \(summary.sent) sent, \(summary.retrying) retrying, \(summary.dead) dead")
        if summary.dead > 0 { throw CommandExit(code: 1) }
    }
}
