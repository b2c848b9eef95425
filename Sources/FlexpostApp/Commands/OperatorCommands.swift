import ArgumentParser
import FlexpostCore
import Foundation

/// Which deliveries a hold or release concerns: `--kind`, `--order`, both, or
/// neither (everything).
struct HoldScopeOptions: ParsableArguments {
    @Option(help: "Only this kind of mail.") var kind: DeliveryKind?
    @Option(help: "Only this order's mail.") var order: String?

    var scope: HoldScope { HoldScope(kind: kind, orderId: order) }
}

/// `flexpost hold [--kind K] [--order ID] --reason R --actor A` (SPEC §8).
struct HoldCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "hold",
        abstract: "Stop sending: deliveries of the kind or order (or all) become held until released; intake goes on.")

    @OptionGroup var scope: HoldScopeOptions
    @OptionGroup var record: ActionRecord

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let result = try await runtime.store.hold(
            HoldRequest(scope: scope.scope, actor: record.actor, reason: record.reason), at: SystemClock().now())
        switch result.outcome {
        case .held:
            print("hold: \(scope.scope.description) held; \(result.held) deliveries held now, and what arrives or falls due "
                + "while it lasts; `flexpost release` ends it")
        case .alreadyHeld(let hold):
            print("hold: already held: \(hold.summary); nothing changed")
        case .unknownOrder:
            FlexpostMain.printError("flexpost: not held: order \(scope.order ?? ""): unknown order")
            throw CommandExit(code: 1)
        case .released, .nothingHeld:
            preconditionFailure("a hold decision does not release")
        }
    }
}

/// `flexpost release [--kind K] [--order ID] --reason R --actor A` (SPEC §8).
struct ReleaseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "release",
        abstract: "Lift the holds within the kind or order (or all): held deliveries are due at their time, or at once.")

    @OptionGroup var scope: HoldScopeOptions
    @OptionGroup var record: ActionRecord

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let result = try await runtime.store.release(
            HoldRequest(scope: scope.scope, actor: record.actor, reason: record.reason), at: SystemClock().now())
        switch result.outcome {
        case .released(let lifted, let still):
            for hold in lifted { print("lifted: \(hold.summary)") }
            print("release: \(result.released) deliveries due again (at their time, or at once if it passed)")
            for hold in still { print("still held by: \(hold.summary)") }
        case .nothingHeld(let still):
            print("release: no hold on \(scope.scope.description) to lift; nothing changed")
            for hold in still { print("still held by: \(hold.summary)") }
        case .held, .alreadyHeld, .unknownOrder:
            preconditionFailure("a release decision does not hold")
        }
    }
}

/// `flexpost cancel DELIVERY_ID --reason R --actor A` (SPEC §8).
struct CancelCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cancel",
        abstract: "Cancel one unsent delivery; the order's secrets go when no other unsent delivery needs them.")

    @Argument(help: "The delivery id (as `status` shows it).") var deliveryId: Int64
    @OptionGroup var record: ActionRecord

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        try await runtime.warnIfDeliveryEventsUnset()
        if let refusal = try await runtime.store.cancelDelivery(
            DeliveryCancellation(deliveryId: deliveryId, actor: record.actor, reason: record.reason), at: SystemClock().now())
        {
            FlexpostMain.printError("flexpost: not cancelled: delivery \(deliveryId): \(refusal.explanation)")
            throw CommandExit(code: 1)
        }
        print("cancel: delivery \(deliveryId) cancelled")
    }
}

/// `flexpost erase --customer N --reason R --actor A` (SPEC §8): a data
/// subject's request, done at once.
struct EraseCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "erase",
        abstract: "Erase a customer's personal data now (a data subject's request): unsent mail is cancelled.")

    @Option(help: "The customer number.") var customer: String
    @OptionGroup var record: ActionRecord

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        try await runtime.warnIfDeliveryEventsUnset()
        guard let outcome = try await runtime.store.erase(
            ErasureRequest(customerNumber: customer, actor: record.actor, reason: record.reason), at: SystemClock().now())
        else {
            FlexpostMain.printError("flexpost: not erased: customer \(customer): unknown customer (no order of it is stored)")
            throw CommandExit(code: 1)
        }
        print("erase: personal data of \(outcome.erased) orders of customer \(customer) erased; "
            + "\(outcome.cancelled) unsent deliveries cancelled"
            + (outcome.alreadyErased > 0 ? "; \(outcome.alreadyErased) orders erased before" : ""))
    }
}
