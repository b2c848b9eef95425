import ArgumentParser
import FlexpostCore
import FlexpostEngine
import Foundation

/// `flexpost resend ORDER_ID --kind ... --reason ... --actor ...` (R7).
struct Resend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an order's access-data e-mail or administrator notice again, to the same recipients.")

    @Argument(help: "The order id.") var orderId: String
    @Option(help: "Which mail.") var kind: DeliveryKind
    @OptionGroup var record: ActionRecord

    func run() async throws {
        let runtime = try await startRuntime()
        let planner = runtime.planner
        let outcome = try await runtime.store.resend(
            ResendRequest(orderId: orderId, kind: kind, actor: record.actor, reason: record.reason),
            at: SystemClock().now(), limitPerDay: runtime.configuration.resendLimit,
            messageID: { planner.newMessageID() })
        switch outcome {
        case .scheduled(let deliveries):
            let time = LocalDisplayTime(timeZone: runtime.configuration.timeZone)
            for delivery in deliveries { print("scheduled " + DeliveryView(delivery).line(time)) }
            print("resend: \(deliveries.count) deliveries scheduled; `flexpost drain` or serve sends them")
        case .refused(let refusal):
            FlexpostMain.printError("flexpost: not resent: order \(orderId) \(kind.rawValue): \(refusal.explanation)")
            throw CommandExit(code: 1)
        }
    }
}

/// `flexpost purge [--now T]` (R8).
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Destroy secrets of orders whose access-data mail ended or that were cancelled more than FLEXPOST_RETENTION_DAYS ago, and erase the personal data of orders whose mail all ended more than FLEXPOST_PERSONAL_DATA_DAYS ago.")

    @Option(help: "Act as if the time were T (RFC 3339, e.g. 2026-12-01T07:00:30Z).") var now: Instant?

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let at = now?.date ?? Date()
        let config = runtime.configuration
        let purged = try await RetentionSweep.purge(
            store: runtime.store, transport: try runtime.makeTransport(), retentionDays: config.retentionDays,
            personalDataDays: config.personalDataDays, at: at)
        print("purge: secrets of \(purged.orders) orders destroyed (retention \(config.retentionDays) days)"
            + (purged.copies > 0 ? "; \(purged.copies) outbox files deleted" : "")
            + "; personal data of \(purged.erased) orders erased (retention \(config.personalDataDays) days)")
    }
}
