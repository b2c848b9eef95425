import FlexpostCore
import Foundation
import Logging

/// Taking bounces in (SPEC §6): a received message is read by the core
/// (``BounceReport``), tied to a delivery by its VERP address first, then by
/// the returned Message-ID, and decided by ``BounceRules`` in the store's
/// transaction. `/metrics` counts them from the store
/// (`flexpost_bounces_total{kind,class}`), whichever process took them in.
public struct BounceIntake: Sendable {
    let store: any QueueStore
    let returnPath: ReturnPath?
    let clock: any WallClock
    let logger: Logger

    public init(store: any QueueStore, returnPath: ReturnPath?, clock: any WallClock, logger: Logger) {
        self.store = store
        self.returnPath = returnPath
        self.clock = clock
        self.logger = logger
    }

    public struct Taken: Sendable {
        public var report: BounceReport
        public var deliveryId: Int64?
        public var outcome: BounceOutcome
    }

    /// The delivery a report is about, and its order; nil when it names none flexpost knows.
    public func match(_ report: BounceReport) async throws -> (deliveryId: Int64, orderId: String)? {
        if let returnPath {
            for address in report.returnAddresses {
                if let id = returnPath.deliveryId(in: address), let orderId = try await store.orderId(ofDelivery: id) {
                    return (id, orderId)
                }
            }
        }
        if let messageId = report.returnedMessageId {
            return try await store.delivery(messageId: messageId)
        }
        return nil
    }

    /// Reads, matches and records one received message.
    public func take(_ bytes: [UInt8]) async throws -> Taken {
        let report = BounceReport.read(bytes)
        guard let (deliveryId, orderId) = try await match(report) else {
            logger.info("bounce matched no delivery", metadata: [
                "bounce.class": "\(report.bounceClass.rawValue)", "bounce.message_id": "\(report.messageId ?? "-")",
            ])
            return Taken(report: report, deliveryId: nil, outcome: .unmatched)
        }
        let now = clock.now()
        let recorded = try await store.decide(orderIds: [orderId]) { facts in
            BounceRules.apply(report, deliveryId: deliveryId, facts: facts[orderId], at: now)
        }
        logger.info("bounce taken in", metadata: [
            "delivery.id": "\(deliveryId)", "order.id": "\(orderId)", "bounce.class": "\(report.bounceClass.rawValue)",
            "bounce.outcome": "\(recorded.outcome)",
        ])
        return Taken(report: report, deliveryId: deliveryId, outcome: recorded.outcome)
    }
}
