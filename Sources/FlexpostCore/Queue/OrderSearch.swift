import Foundation

/// SPEC §7 search: one field for an order id, a customer number, an e-mail
/// address (contact or administrator), a phone number (with or without
/// spaces, `+49` or `0`) or a site product id. Each order is stored with its
/// search terms, normalised here once, for the stores' index and the query alike.
public enum OrderSearch {
    /// The normal form of a query or of a stored value.
    public static func term(_ text: String) -> String {
        let trimmed = trimmedText(text)
        if let phone = phoneNumber(trimmed) { return phone }
        return trimmed.lowercased()
    }

    /// `text` without leading and trailing spaces and line breaks (what
    /// Foundation's `.whitespacesAndNewlines` holds), without a trip through
    /// `NSString`: the terms of every order are made at intake.
    static func trimmedText(_ text: String) -> String {
        let scalars = text.unicodeScalars
        func isEdge(_ scalar: Unicode.Scalar) -> Bool {
            String.isSpace(scalar) || (0x0A...0x0D).contains(scalar.value) || scalar.value == 0x85
                || scalar.value == 0x2028 || scalar.value == 0x2029
        }
        guard let start = scalars.firstIndex(where: { !isEdge($0) }), let end = scalars.lastIndex(where: { !isEdge($0) })
        else { return "" }
        return String(scalars[start...end])
    }

    /// `+49 221 4711000`, `0049 221/4711000` and `0221 4711000` are all `02214711000`;
    /// other countries keep their code (`+43 1 234` is `00431234`). Nil: not a phone number.
    static func phoneNumber(_ text: String) -> String? {
        var digits: [UInt8] = []
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digits.append(byte)
            case UInt8(ascii: "+"), UInt8(ascii: " "), UInt8(ascii: "-"), UInt8(ascii: "/"), UInt8(ascii: "("), UInt8(ascii: ")"): break
            default: return nil
            }
        }
        guard digits.count >= 6 else { return nil }
        if text.utf8.first == UInt8(ascii: "+") { digits = Array("00".utf8) + digits }
        if digits.starts(with: Array("0049".utf8)) { digits = [UInt8(ascii: "0")] + digits.dropFirst(4) }
        return String(decoding: digits, as: UTF8.self)
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

    /// The terms of an order as it is stored: its document's, or only the kept
    /// ones once its personal data is erased (`document` nil).
    public static func terms(orderId: String, customerNumber: String, document: OrderConfirmation?) -> Set<String> {
        guard let document else { return Set(keptTerms(orderId: orderId, customerNumber: customerNumber)) }
        return terms(document)
    }
}

/// SPEC §7 search, kept off the intake path. Intake notes each new order in a
/// backlog (one row) instead of writing its ten or so search terms into the
/// index inside the webhook's transaction; the terms are added in batches by
/// `serve`'s ``SearchIndexer`` and by every search before it reads, so a
/// search still finds every order stored before it. (Written at intake, the
/// terms doubled the bytes each event writes and cost intake about a third.)
public protocol SearchIndex: Sendable {
    /// Adds the search terms of up to `limit` orders of the backlog and takes
    /// them off it, in one transaction; answers how many it took.
    func indexStoredOrders(limit: Int) async throws -> Int
}

extension SearchIndex {
    /// Indexes the whole backlog, `batch` orders per transaction; answers how many.
    @discardableResult
    public func indexBacklog(batch: Int = 1_000) async throws -> Int {
        var indexed = 0
        while true {
            let taken = try await indexStoredOrders(limit: batch)
            indexed += taken
            if taken == 0 { return indexed }
        }
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
