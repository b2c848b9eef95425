import Foundation

/// SPEC §7 search: one field for an order id, a customer number, an e-mail
/// address (contact or administrator), a phone number (with or without
/// spaces, `+49` or `0`) or a site product id. Each order is stored with its
/// search terms, normalised here once, for the stores' index and the query alike.
public enum OrderSearch {
    /// The normal form of a query or of a stored value.
    public static func term(_ text: String) -> String {
        let trimmed = text.trimmingCharacters(in: .whitespacesAndNewlines)
        if let phone = phoneNumber(trimmed) { return phone }
        return trimmed.lowercased()
    }

    /// `+49 221 4711000`, `0049 221/4711000` and `0221 4711000` are all `02214711000`;
    /// other countries keep their code (`+43 1 234` is `00431234`). Nil: not a phone number.
    static func phoneNumber(_ text: String) -> String? {
        let allowed = CharacterSet(charactersIn: "0123456789+ -/()")
        guard !text.isEmpty, text.unicodeScalars.allSatisfy(allowed.contains) else { return nil }
        var digits = String(text.unicodeScalars.filter { CharacterSet.decimalDigits.contains($0) }.map(Character.init))
        guard digits.count >= 6 else { return nil }
        if text.hasPrefix("+") { digits = "00" + digits }
        if digits.hasPrefix("0049") { digits = "0" + digits.dropFirst(4) }
        return digits
    }

    /// The terms an order is found by.
    public static func terms(_ order: OrderConfirmation) -> Set<String> {
        var values = [order.orderId, order.customer.customerNumber, order.customer.contact.email.value]
        values += order.portal.administrators.map(\.email.value)
        for product in order.siteProducts {
            values.append(product.siteProductId)
            values += product.phoneNumbers
        }
        return Set(values.map(term).filter { !$0.isEmpty })
    }

    /// The terms that are not personal data (they stay after an erasure).
    public static func keptTerms(orderId: String, customerNumber: String) -> [String] {
        [term(orderId), term(customerNumber)]
    }
}

/// An order found by a search, for the result list.
public struct OrderMatch: Sendable, Equatable, Codable {
    public var orderId: String
    public var customerNumber: String
    public var receivedAt: Date

    public init(orderId: String, customerNumber: String, receivedAt: Date) {
        self.orderId = orderId
        self.customerNumber = customerNumber
        self.receivedAt = receivedAt
    }
}
