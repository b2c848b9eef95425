/// The event types of the contract (SPEC §2).
public enum EventType: String, Sendable, CaseIterable {
    case orderConfirmed = "order.confirmed"
    case orderCancelled = "order.cancelled"
    case portalAccountActivated = "portal.account.activated"
}

/// One validated event from the order system.
public enum OrderEvent: Sendable, Equatable {
    case orderConfirmed(OrderConfirmation)
    case orderCancelled(OrderCancellation)
    case portalAccountActivated(PortalActivation)

    public var type: EventType {
        switch self {
        case .orderConfirmed: .orderConfirmed
        case .orderCancelled: .orderCancelled
        case .portalAccountActivated: .portalAccountActivated
        }
    }

    /// The natural key that makes a repeated event a duplicate.
    public var naturalKey: String {
        switch self {
        case .orderConfirmed(let order): order.orderId
        case .orderCancelled(let cancellation): cancellation.orderId
        case .portalAccountActivated(let activation): activation.customerNumber
        }
    }
}

/// An event as decoded, with the canonical bytes of its `data` object, over
/// which idempotency fingerprints are computed.
public struct DecodedEvent: Sendable {
    public var event: OrderEvent
    public var canonicalData: [UInt8]
}

/// Why an event was refused: the JSON path of the field and the rule it broke.
/// Never holds the field's value.
public struct EventRejection: Error, Sendable, Equatable, CustomStringConvertible {
    public var field: String
    public var rule: String
    public init(field: String, rule: String) {
        self.field = field
        self.rule = rule
    }
    public var description: String { "\(field): \(rule)" }
}
