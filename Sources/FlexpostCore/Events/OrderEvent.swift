import Foundation

/// The event types of the contract (SPEC §2).
public enum EventType: String, Sendable, CaseIterable {
    case orderConfirmed = "order.confirmed"
    case orderCancelled = "order.cancelled"
    case portalAccountActivated = "portal.account.activated"
    /// SPEC §6: the customer's contact (who gets the access data) changed.
    case customerContactChanged = "customer.contact.changed"
    /// SPEC §6: the customer's BSP administrators changed.
    case portalAdministratorsChanged = "portal.administrators.changed"
}

/// One validated event from the order system.
public enum OrderEvent: Sendable, Equatable {
    case orderConfirmed(OrderConfirmation)
    case orderCancelled(OrderCancellation)
    case portalAccountActivated(PortalActivation)
    case recipientsChanged(RecipientChange)

    public var type: EventType {
        switch self {
        case .orderConfirmed: .orderConfirmed
        case .orderCancelled: .orderCancelled
        case .portalAccountActivated: .portalAccountActivated
        case .recipientsChanged(let change):
            switch change.recipients {
            case .contact: .customerContactChanged
            case .administrators: .portalAdministratorsChanged
            }
        }
    }

    /// The natural key that makes a repeated event a duplicate.
    public var naturalKey: String {
        switch self {
        case .orderConfirmed(let order): order.orderId
        case .orderCancelled(let cancellation): cancellation.orderId
        case .portalAccountActivated(let activation): activation.customerNumber
        // SPEC §6: (customerNumber, changedAt).
        case .recipientsChanged(let change): change.customerNumber + "@" + RFC3339.format(change.changedAt)
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

/// SPEC §6: the order system corrects who gets a customer's mail.
public struct RecipientChange: Sendable, Equatable {
    public enum Recipients: Sendable, Equatable {
        /// `customer.contact.changed`: the access data's recipient.
        case contact(Contact)
        /// `portal.administrators.changed`: the administrator notices' recipients.
        case administrators([Contact])
    }

    public var customerNumber: String
    public var recipients: Recipients
    public var changedAt: Date

    public init(customerNumber: String, recipients: Recipients, changedAt: Date) {
        self.customerNumber = customerNumber
        self.recipients = recipients
        self.changedAt = changedAt
    }

    /// The kind of mail whose recipients change.
    public var kind: DeliveryKind {
        switch recipients {
        case .contact: .accessData
        case .administrators: .adminNotice
        }
    }

    public var contacts: [Contact] {
        switch recipients {
        case .contact(let contact): [contact]
        case .administrators(let list): list
        }
    }
}
