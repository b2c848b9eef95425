import Foundation

/// What one e-mail says, as values for its templates. Building it is the only
/// place where an order's data meets a template.
public protocol MailContent: Sendable {
    var kind: DeliveryKind { get }
    /// Template values. Only ``AccessDataMail`` ever puts a secret here.
    func view(dates: LocalDateFormat) -> TemplateView
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
    func groupedByBasePackage(password: (SiteProduct) -> String?) -> TemplateValue {
        var order: [String] = []
        var names: [String: String] = [:]
        for package in basePackages where names[package.basePackageId] == nil {
            order.append(package.basePackageId)
            names[package.basePackageId] = package.name
        }
        for product in siteProducts where !order.contains(product.basePackageId) {
            order.append(product.basePackageId)
        }
        return .list(order.map { id in
            let products = siteProducts.filter { $0.basePackageId == id }.map { product -> TemplateValue in
                var entry: [String: TemplateValue] = [
                    "siteProductId": .text(product.siteProductId),
                    "basePackageId": .text(product.basePackageId),
                    "site": [
                        "name": .text(product.site.name), "street": .text(product.site.street),
                        "postalCode": .text(product.site.postalCode), "city": .text(product.site.city),
                    ],
                    "phoneNumbers": .list(product.phoneNumbers.map(TemplateValue.text)),
                    "phoneNumberList": .text(product.phoneNumbers.joined(separator: ", ")),
                    "lineId": .text(product.access.lineId),
                    "username": .text(product.access.username),
                ]
                if let secret = password(product) { entry["password"] = .text(secret) }
                return .object(entry)
            }
            var group: [String: TemplateValue] = [
                "basePackageId": .text(id), "isNew": .flag(names[id] != nil), "siteProducts": .list(products),
                "hasSiteProducts": .flag(!products.isEmpty),
            ]
            if let name = names[id] { group["name"] = .text(name) }
            return .object(group)
        })
    }

    func commonView(dates: LocalDateFormat) -> TemplateView {
        [
            "orderId": .text(orderId),
            "orderDate": .text(dates.date(confirmedAt)),
            "customerNumber": .text(customer.customerNumber),
            "company": .text(customer.company),
            "contactName": .text(customer.contact.name),
        ]
    }
}
