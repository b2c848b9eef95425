import ArgumentParser
import FlexpostCore
import FlexpostEngine
import Foundation

/// `flexpost drain`: one delivery pass for cron; stops gracefully on SIGTERM or SIGINT.
struct Drain: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Deliver everything due at T (default: now), then exit.")

    @Option(help: "Act as if the time were T (RFC 3339, e.g. 2026-12-01T07:00:30Z).") var now: Instant?
    @Option(help: "Deliver at most N deliveries.") var limit: Int?

    func validate() throws {
        if let limit, limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let runtime = try await startRuntime()
        try await runtime.logHolds()
        try await runtime.warnIfDeliveryEventsUnset()
        let clock: any WallClock = now.map { FixedClock($0.date) } ?? SystemClock()
        let worker = runtime.worker(transport: try runtime.makeTransport())
        let progress = isatty(STDOUT_FILENO) == 1
            ? ProgressLine(total: try await runtime.store.dueCount(at: clock.now(), limit: limit)) : nil
        // SIGTERM or SIGINT (a cron timeout, Ctrl-C): no more claims, the attempts
        // in flight finish and are recorded, what was not started is given back
        // for the next run, and the exit status is the one the signal itself
        // would have given (128 + its number).
        let stop = StopSignals()
        let summary = try await worker.runPass(
            clock: clock, limit: limit, shouldStop: { stop.signal != nil }, progress: { progress?.show($0) })
        progress?.finish()
        try await Self.postDeliveryEvents(runtime, stop: stop)
        print("drain: \(summary.sent) sent, \(summary.retrying) retrying, \(summary.dead) dead"
              + (summary.held > 0 ? ", \(summary.held) held" : ""))
        if let signal = stop.signal {
            FileHandle.standardError.write(Data(
                "flexpost: drain stopped by \(StopSignals.name(signal)): \(summary.lost) not started, left for the next run\n".utf8))
            throw CommandExit(code: 128 + signal)
        }
        if summary.dead > 0 { throw CommandExit(code: 1) }
    }
}

extension Drain {
    /// SPEC §6: where cron's `drain` is the only worker, it posts the delivery
    /// events due too (what it cannot post now waits for the next run or `serve`).
    static func postDeliveryEvents(_ runtime: Runtime, stop: StopSignals) async throws {
        // Real time even under `--now`: the events' signatures carry it.
        guard let (sender, transport) = runtime.eventSender(clock: SystemClock()) else { return }
        do {
            // Until nothing is due, or a whole batch found the order system away
            // (each post may wait out its timeout: cron's run must end).
            var posted = 0
            while stop.signal == nil {
                let pass = try await sender.pass()
                posted += pass.claimed
                if pass.claimed == 0 || pass.taken == 0 || posted >= 10_000 { break }
            }
        } catch {
            try? await transport.shutdown()
            throw error
        }
        try? await transport.shutdown()
    }
}

/// `drain` on a terminal: done / total and the rate, redrawn in place.
final class ProgressLine {
    let total: Int
    let started = Date()
    var lastDraw = Date.distantPast

    init(total: Int) { self.total = total }

    func show(_ summary: PassSummary) {
        let now = Date()
        guard now.timeIntervalSince(lastDraw) >= 0.1 || summary.claimed == total else { return }
        lastDraw = now
        let rate = Double(summary.claimed) / max(now.timeIntervalSince(started), 0.001)
        let line = "\r\(summary.claimed)/\(total) done, \(Int(rate))/s (\(summary.sent) sent, \(summary.retrying) retrying, \(summary.dead) dead)"
        FileHandle.standardOutput.write(Data(line.utf8))
    }

    func finish() {
        FileHandle.standardOutput.write(Data("\n".utf8))
    }
}
