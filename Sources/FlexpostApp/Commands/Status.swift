import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost status ORDER_ID`: an order's deliveries, attempts and history; no secrets.
struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Show an order's deliveries (no secrets).")

    @Argument(help: "The order id.") var orderId: String
    @Flag(help: "Print JSON.") var json = false

    func run() async throws {
        let runtime = try await startRuntime()
        let report = try await OrderReport.load(orderId: orderId, store: runtime.store)
        guard let report else {
            FlexpostMain.printError("flexpost: unknown order \(orderId)")
            throw CommandExit(code: 1)
        }
        if json {
            print(try report.json())
        } else {
            print(report.text())
        }
    }
}

/// `flexpost list`: deliveries by state, like `mailq`.
struct List: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "List deliveries, optionally by state.")

    @Option(help: "scheduled, sending, retrying, sent, cancelled or dead.") var state: String?
    @Option(help: "At most N deliveries.") var limit: Int = 1000
    @Flag(help: "Print JSON.") var json = false

    func validate() throws {
        if let state, DeliveryState(rawValue: state) == nil {
            throw ValidationError("--state must be one of "
                + DeliveryState.allCases.map(\.rawValue).joined(separator: ", "))
        }
    }

    func run() async throws {
        let runtime = try await startRuntime()
        let deliveries = try await runtime.store.deliveries(state: state.flatMap(DeliveryState.init), limit: limit)
        if json {
            print(try OrderReport.encode(deliveries.map(DeliveryView.init)))
        } else {
            for delivery in deliveries { print(DeliveryView(delivery).line) }
            print("\(deliveries.count) deliveries")
        }
    }
}
