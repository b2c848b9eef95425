import ArgumentParser
import FlexpostCore
import FlexpostServer
import Foundation

/// `flexpost resend ORDER_ID --kind ... --reason ... --actor ...` (R7).
struct Resend: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Send an order's access-data e-mail or administrator notice again, to the same recipients.")

    @Argument(help: "The order id.") var orderId: String
    @Option(help: "access-data or admin-notice.") var kind: String
    @Option(help: "Why the mail is resent (recorded).") var reason: String
    @Option(help: "Who asks for it (recorded).") var actor: String

    func validate() throws {
        try Self.check(kind: kind, reason: reason, actor: actor)
    }

    /// The checks every resend command makes of its options (R7 records actor
    /// and reason, so they are held to the HTTP resend's rules).
    static func check(kind: String?, reason: String, actor: String) throws {
        if let kind, DeliveryKind(rawValue: kind) == nil {
            throw ValidationError("--kind must be access-data or admin-notice")
        }
        do {
            _ = try ResendBody.text(reason, "--reason")
            _ = try ResendBody.text(actor, "--actor")
        } catch {
            throw ValidationError("\(error.field) \(error.rule)")
        }
    }

    func run() async throws {
        let runtime = try await startRuntime()
        let planner = runtime.planner
        let outcome = try await runtime.store.resend(
            ResendRequest(orderId: orderId, kind: DeliveryKind(rawValue: kind)!, actor: actor, reason: reason),
            at: SystemClock().now(), limitPerDay: runtime.configuration.resendLimit,
            messageID: { planner.newMessageID() })
        switch outcome {
        case .scheduled(let deliveries):
            for delivery in deliveries { print("scheduled " + DeliveryView(delivery).line) }
            print("resend: \(deliveries.count) deliveries scheduled; `flexpost drain` or serve sends them")
        case .unknownOrder:
            FlexpostMain.printError("flexpost: unknown order \(orderId)")
            throw CommandExit(code: 1)
        case .secretsGone:
            FlexpostMain.printError("flexpost: cannot resend the access data of \(orderId): its secrets were purged (retention) or the order was cancelled")
            throw CommandExit(code: 1)
        case .nothingToResend:
            FlexpostMain.printError("flexpost: order \(orderId) has no \(kind) e-mail to resend")
            throw CommandExit(code: 1)
        case .limitReached(let limit):
            FlexpostMain.printError("flexpost: resend limit reached: at most \(limit) resends per order per day (FLEXPOST_RESEND_LIMIT)")
            throw CommandExit(code: 1)
        }
    }
}

/// `flexpost purge [--now T]` (R8).
struct Purge: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Destroy secrets of orders whose access-data mail ended or that were cancelled more than FLEXPOST_RETENTION_DAYS ago.")

    @Option(help: "Act as if the time were T (RFC 3339).") var now: String?

    func validate() throws { _ = try parseInstant(now) }

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let at = try parseInstant(now) ?? Date()
        let count = try await RetentionSweep.purge(runtime: runtime, at: at)
        print("purge: secrets of \(count) orders destroyed (retention \(runtime.configuration.retentionDays) days)")
    }
}
