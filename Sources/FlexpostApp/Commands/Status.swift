import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost status ORDER_ID`: an order's deliveries, attempts and history; no secrets.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an order's deliveries (no secrets).")

    @Argument(help: "The order id.") var orderId: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let report = try await OrderReport.load(orderId: orderId, store: runtime.store)
        guard let report else {
            FlexpostMain.printError("flexpost: unknown order \(orderId)")
            throw CommandExit(code: 1)
        }
        if json {
            print(try report.json())
        } else {
            print(report.text(LocalDisplayTime(timeZone: runtime.configuration.timeZone)))
        }
    }
}

/// `flexpost list`: deliveries by state, like `mailq`.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List deliveries, optionally by state.")

    @Option(help: "Only deliveries in this state.") var state: DeliveryState?
    @Option(help: "At most N deliveries.") var limit: Int = 1000
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if limit < 1 { throw ValidationError("--limit must be at least 1") }
    }

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let wanted = state
        let deliveries = try await runtime.store.deliveries(state: wanted, limit: limit)
        // A full page may not be all: say how many there are, so that a
        // dead-letter view of 1,000 is not taken for the whole of it.
        var total = deliveries.count
        if deliveries.count == limit {
            let counts = try await runtime.store.countsByState()
            total = wanted.map { counts[$0] ?? 0 } ?? counts.values.reduce(0, +)
        }
        let shown = total > deliveries.count
            ? "\(deliveries.count) of \(total) deliveries shown (the first by due time; --limit \(limit))"
            : nil
        if json {
            print(try OrderReport.encode(deliveries.map(DeliveryView.init)))
            if let shown { FileHandle.standardError.write(Data((shown + "\n").utf8)) }
        } else {
            let time = LocalDisplayTime(timeZone: runtime.configuration.timeZone)
            for delivery in deliveries { print(DeliveryView(delivery).line(time)) }
            print(shown ?? "\(deliveries.count) deliveries")
        }
    }
}
