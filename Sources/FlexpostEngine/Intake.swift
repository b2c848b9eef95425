import FlexpostCore
import Foundation
import Metrics
import Synchronization

/// The intake: decode and validate, apply the rules, seal the secrets, and
/// store everything in one transaction before anything is acknowledged.
public struct Intake: EventIntake {
    let store: any QueueStore
    let sealer: SecretSealer
    let planner: DeliveryPlanner
    let clock: any WallClock
    let decoder = EventDecoder()
    /// Rung when an order stored a delivery that is due now (`serve`).
    let doorbell: DeliveryDoorbell?

    public init(store: any QueueStore, sealer: SecretSealer, planner: DeliveryPlanner, clock: any WallClock,
                doorbell: DeliveryDoorbell? = nil) {
        self.store = store
        self.sealer = sealer
        self.planner = planner
        self.clock = clock
        self.doorbell = doorbell
    }

    public func submit(_ body: [UInt8]) async throws -> IntakeResult {
        let result: IntakeResult
        do {
            result = try await record(body)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // The store failed or did not answer: the sender is told to retry
            // (503), and an outage shows in the metrics as refused intake.
            let type = Self.peekIdentity(body).0.flatMap { EventType(rawValue: $0)?.rawValue } ?? "unknown"
            Counter(label: "flexpost_events_received_total", dimensions: [("type", type), ("result", "unavailable")])
                .increment()
            throw error
        }
        let (type, outcome): (String, String) =
            switch result {
            case .recorded(let outcome, let type, _): (type.rawValue, outcome.rawValue)
            case .rejected(_, let type, _): (type.flatMap { EventType(rawValue: $0)?.rawValue } ?? "unknown", "rejected")
            }
        Counter(label: "flexpost_events_received_total", dimensions: [("type", type), ("result", outcome)]).increment()
        return result
    }

    func record(_ body: [UInt8]) async throws -> IntakeResult {
        let decoded: DecodedEvent
        do {
            decoded = try decoder.decode(body)
        } catch {
            let (type, key) = Self.peekIdentity(body)
            return .rejected(error, type: type, key: key)
        }
        let event = decoded.event
        let canonical = decoded.canonicalData
        let sealer = self.sealer
        let identity = EventIdentity(
            type: event.type, key: event.naturalKey,
            fingerprint: { keyId in
                sealer.fingerprint(canonical, keyId: keyId).map { EventFingerprint(keyId: $0.keyId, digest: $0.digest) }
            })
        let now = clock.now()
        let outcome: IntakeOutcome
        switch event {
        case .orderConfirmed(let order):
            let planner = self.planner
            let dueNow = DueNow()
            let prepare = { @Sendable (knownActive: Bool) -> PreparedOrder in
                var plan = planner.plan(order, portalKnownActive: knownActive)
                let sealed = sealer.seal(plan.order.secrets, orderId: order.orderId)
                plan.order.secrets = OrderSecrets()
                return PreparedOrder(plan: plan, sealedSecrets: sealed)
            }
            // Planned and sealed here, before the store's transaction: the store
            // has one writer, and work done inside its transaction holds up every
            // event waiting for it. Only a customer whose portal an earlier event
            // made active, on an order that still says pending, is planned again
            // inside (R2 then drops the OTP).
            let prepared = prepare(false)
            let orderSaysActive = order.portal.accountStatus == .active
            outcome = try await store.recordOrder(identity, customerNumber: order.customer.customerNumber, receivedAt: now) {
                knownActive in
                let stored = knownActive && !orderSaysActive ? prepare(true) : prepared
                dueNow.set(stored.plan.deliveries.contains { $0.dueAt <= now })
                return stored
            }
            if outcome == .accepted, dueNow.value { doorbell?.ring() }
        case .orderCancelled(let cancellation):
            outcome = try await store.recordCancellation(identity, cancellation, receivedAt: now)
        case .portalAccountActivated(let activation):
            outcome = try await store.recordActivation(identity, activation, receivedAt: now)
        case .recipientsChanged(let change):
            let planner = self.planner
            outcome = try await store.recordRecipientChange(identity, change, receivedAt: now) { planner.newMessageID() }
            if outcome == .accepted { doorbell?.ring() }
        }
        return .recorded(outcome, type: event.type, key: event.naturalKey)
    }

    /// Whether the order just prepared holds a delivery due at once (an administrator notice).
    private final class DueNow: Sendable {
        private let flag = Atomic<Bool>(false)
        var value: Bool { flag.load(ordering: .acquiring) }
        func set(_ value: Bool) { flag.store(value, ordering: .releasing) }
    }

    /// Best effort: the type and natural key of an event that was refused,
    /// for the result line. Only printable identifiers are echoed.
    static func peekIdentity(_ body: [UInt8]) -> (String?, String?) {
        guard body.count <= EventDecoder.maxBodySize,
            let object = try? JSONSerialization.jsonObject(with: Data(body)) as? [String: Any]
        else { return (nil, nil) }
        func printable(_ value: Any?) -> String? {
            guard let text = value as? String, !text.isEmpty, text.count <= 64,
                text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F })
            else { return nil }
            return text
        }
        let data = object["data"] as? [String: Any]
        return (printable(object["type"]), printable(data?["orderId"]) ?? printable(data?["customerNumber"]))
    }
}
