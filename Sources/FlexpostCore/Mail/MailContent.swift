import Foundation

/// What one e-mail says, as values for its templates. Building it is the only
/// place where an order's data meets a template.
public protocol MailContent: Sendable {
    var kind: DeliveryKind { get }
    /// Template values. Only ``AccessDataMail`` ever puts a secret here.
    func view(dates: LocalDateFormat) -> [String: Any]
}

/// Formats dates for the reader, in the order's language and local time zone.
public struct LocalDateFormat: Sendable {
    public let timeZone: TimeZone
    public let language: Language

    public init(timeZone: TimeZone, language: Language) {
        self.timeZone = timeZone
        self.language = language
    }

    public func date(_ date: Date) -> String {
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + timeZone.secondsFromGMT(for: date)
        let (y, m, d) = RFC3339.civilFromDays(local >= 0 ? local / 86_400 : (local - 86_399) / 86_400)
        switch language {
        case .de: return "\(d.zeroPadded(2)).\(m.zeroPadded(2)).\(y.zeroPadded(4))"
        case .en: return "\(d) \(MailDate.months[m - 1]) \(y)"
        }
    }
}

extension OrderConfirmation {
    /// Site products grouped by base package: base packages this order adds
    /// come first in order, then the existing ones its site products go on.
    func groupedByBasePackage(password: (SiteProduct) -> String?) -> [[String: Any]] {
        var order: [String] = []
        var names: [String: String] = [:]
        for package in basePackages where names[package.basePackageId] == nil {
            order.append(package.basePackageId)
            names[package.basePackageId] = package.name
        }
        for product in siteProducts where !order.contains(product.basePackageId) {
            order.append(product.basePackageId)
        }
        return order.map { id in
            let products = siteProducts.filter { $0.basePackageId == id }.map { product -> [String: Any] in
                var entry: [String: Any] = [
                    "siteProductId": product.siteProductId,
                    "basePackageId": product.basePackageId,
                    "site": [
                        "name": product.site.name, "street": product.site.street,
                        "postalCode": product.site.postalCode, "city": product.site.city,
                    ],
                    "phoneNumbers": product.phoneNumbers,
                    "phoneNumberList": product.phoneNumbers.joined(separator: ", "),
                    "lineId": product.access.lineId,
                    "username": product.access.username,
                ]
                if let secret = password(product) { entry["password"] = secret }
                return entry
            }
            var group: [String: Any] = [
                "basePackageId": id, "isNew": names[id] != nil, "siteProducts": products,
                "hasSiteProducts": !products.isEmpty,
            ]
            if let name = names[id] { group["name"] = name }
            return group
        }
    }

    func commonView(dates: LocalDateFormat) -> [String: Any] {
        [
            "orderId": orderId,
            "orderDate": dates.date(confirmedAt),
            "customerNumber": customer.customerNumber,
            "company": customer.company,
            "contactName": customer.contact.name,
        ]
    }
}
