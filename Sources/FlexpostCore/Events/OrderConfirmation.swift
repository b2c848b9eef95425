import Foundation

/// The customer's language for every e-mail of an order (R6).
public enum Language: String, Codable, Sendable, CaseIterable {
    case de, en
}

/// Whether the customer's Business Service Portal account is usable yet.
public enum PortalAccountStatus: String, Codable, Sendable, CaseIterable {
    case active, pending
}

/// A person reachable by e-mail: the customer's contact or a BSP administrator.
public struct Contact: Codable, Sendable, Equatable {
    public var name: String
    public var email: EmailAddress
    public init(name: String, email: EmailAddress) {
        self.name = name
        self.email = email
    }

    /// A recipient whose personal data was erased (SPEC §8).
    public static let erased = Contact(name: "", email: .erased)

    /// A recipient as a store reads it back: empty after an erasure, else a
    /// valid address.
    public static func stored(name: String, email: String) throws(EmailAddressError) -> Contact {
        email.isEmpty ? .erased : Contact(name: name, email: try EmailAddress(validating: email))
    }
}

/// The ordering customer, identified by the customer number ("Kundennummer").
public struct Customer: Codable, Sendable, Equatable {
    public var customerNumber: String
    public var company: String
    public var contact: Contact
    public var language: Language
}

/// What the order says about the customer's portal account (without the OTP).
public struct Portal: Codable, Sendable, Equatable {
    public var accountStatus: PortalAccountStatus
    public var administrators: [Contact]
}

/// The postal site where a site product is installed.
public struct Site: Codable, Sendable, Equatable {
    public var name: String
    public var street: String
    public var postalCode: String
    public var city: String
}

/// A further base package ("Grundpaket"): a contract of its own.
public struct BasePackage: Codable, Sendable, Equatable {
    public var basePackageId: String
    public var name: String
}

/// Router access data of a site product, without its password (kept in ``OrderSecrets``).
public struct AccessData: Codable, Sendable, Equatable {
    public var lineId: String
    public var username: String
}

/// A site product ("Standortprodukt") on one base package: numbers and an IP line.
public struct SiteProduct: Codable, Sendable, Equatable {
    public var basePackageId: String
    public var siteProductId: String
    public var site: Site
    public var phoneNumbers: [String]
    public var access: AccessData
}

/// A service booked on a base package; brings no access data.
public struct BookedService: Codable, Sendable, Equatable {
    public var basePackageId: String
    public var serviceId: String
    public var name: String
}

/// One line of an order.
public enum OrderItem: Sendable, Equatable, Codable {
    case basePackage(BasePackage)
    case siteProduct(SiteProduct)
    case service(BookedService)

    private enum CodingKeys: String, CodingKey { case kind }

    public init(from decoder: any Decoder) throws {
        let kind = try decoder.container(keyedBy: CodingKeys.self).decode(String.self, forKey: .kind)
        switch kind {
        case "basePackage": self = .basePackage(try BasePackage(from: decoder))
        case "siteProduct": self = .siteProduct(try SiteProduct(from: decoder))
        case "service": self = .service(try BookedService(from: decoder))
        default:
            throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription: "unknown kind"))
        }
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        switch self {
        case .basePackage(let item):
            try container.encode("basePackage", forKey: .kind)
            try item.encode(to: encoder)
        case .siteProduct(let item):
            try container.encode("siteProduct", forKey: .kind)
            try item.encode(to: encoder)
        case .service(let item):
            try container.encode("service", forKey: .kind)
            try item.encode(to: encoder)
        }
    }
}

/// The secrets of an order, kept apart from its document so that the
/// document can be stored, shown and logged as it is.
public struct OrderSecrets: Sendable, Equatable {
    /// The BSP one-time password; nil when the account is active or none came.
    public var oneTimePassword: Secret?
    /// Access passwords by site product id.
    public var accessPasswords: [String: Secret]

    public init(oneTimePassword: Secret? = nil, accessPasswords: [String: Secret] = [:]) {
        self.oneTimePassword = oneTimePassword
        self.accessPasswords = accessPasswords
    }
}

/// An `order.confirmed` event: what a customer ordered and who must hear of it.
public struct OrderConfirmation: Codable, Sendable, Equatable {
    public var orderId: String
    public var confirmedAt: Date
    public var customer: Customer
    public var portal: Portal
    public var items: [OrderItem]
    /// Not part of the stored document: see ``OrderSecrets``.
    public var secrets = OrderSecrets()

    private enum CodingKeys: String, CodingKey { case orderId, confirmedAt, customer, portal, items }

    public init(orderId: String, confirmedAt: Date, customer: Customer, portal: Portal, items: [OrderItem],
                secrets: OrderSecrets) {
        self.orderId = orderId
        self.confirmedAt = confirmedAt
        self.customer = customer
        self.portal = portal
        self.items = items
        self.secrets = secrets
    }

    public var basePackages: [BasePackage] {
        items.compactMap { if case .basePackage(let p) = $0 { p } else { nil } }
    }
    public var siteProducts: [SiteProduct] {
        items.compactMap { if case .siteProduct(let p) = $0 { p } else { nil } }
    }
}

/// An `order.cancelled` event.
public struct OrderCancellation: Sendable, Equatable {
    public var orderId: String
    public var cancelledAt: Date
}

/// A `portal.account.activated` event.
public struct PortalActivation: Sendable, Equatable {
    public var customerNumber: String
    public var activatedAt: Date
}
