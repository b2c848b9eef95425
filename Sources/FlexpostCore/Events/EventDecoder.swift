import Foundation

/// Turns the bytes of one event into a validated ``OrderEvent`` or an
/// ``EventRejection`` naming the field and the rule (SPEC §2, "Validation").
/// Pure: no clock, no store. Rules that need the store's knowledge are applied
/// by the intake planner.
public struct EventDecoder: Sendable {
    /// Bodies above this size are refused before parsing.
    public static let maxBodySize = 1 << 20

    public init() {}

    public func decode(_ bytes: [UInt8]) throws(EventRejection) -> DecodedEvent {
        guard bytes.count <= Self.maxBodySize else {
            throw EventRejection(field: "body", rule: "must be at most 1 MiB")
        }
        let parsed: JSONValue
        do {
            parsed = try JSONValue.parse(bytes)
        } catch {
            throw EventRejection(field: "body", rule: "must be a JSON object (\(error.explanation))")
        }
        let root = JSONField(path: "", value: parsed)
        guard case .object = parsed else { throw EventRejection(field: "body", rule: "must be a JSON object") }
        let typeField = root.member("type")
        let typeText = try typeField.string(maxLength: 64)
        guard let type = EventType(rawValue: typeText) else {
            throw typeField.reject("unknown event type; expected one of "
                + EventType.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        _ = try root.member("timestamp").timestamp()
        let data = try root.member("data").object()
        let event: OrderEvent
        switch type {
        case .orderConfirmed: event = .orderConfirmed(try orderConfirmation(data))
        case .orderCancelled:
            event = .orderCancelled(OrderCancellation(
                orderId: try data.member("orderId").identifier(),
                cancelledAt: try data.member("cancelledAt").timestamp()))
        case .portalAccountActivated:
            event = .portalAccountActivated(PortalActivation(
                customerNumber: try data.member("customerNumber").identifier(),
                activatedAt: try data.member("activatedAt").timestamp()))
        case .customerContactChanged:
            event = .recipientsChanged(RecipientChange(
                customerNumber: try data.member("customerNumber").identifier(),
                recipients: .contact(try contact(data.member("contact"))),
                changedAt: try data.member("changedAt").timestamp()))
        case .portalAdministratorsChanged:
            let customerNumber = try data.member("customerNumber").identifier()
            let field = data.member("administrators")
            var administrators: [Contact] = []
            for entry in try field.array(maxCount: 50) { administrators.append(try contact(entry)) }
            if administrators.isEmpty { throw field.reject("must name at least one administrator") }
            event = .recipientsChanged(RecipientChange(
                customerNumber: customerNumber, recipients: .administrators(administrators),
                changedAt: try data.member("changedAt").timestamp()))
        }
        return DecodedEvent(event: event, canonicalData: data.value!.canonicalBytes)
    }

    private func orderConfirmation(_ data: JSONField) throws(EventRejection) -> OrderConfirmation {
        let orderId = try data.member("orderId").identifier()
        let confirmedAt = try data.member("confirmedAt").timestamp()

        let customerField = try data.member("customer").object()
        let languageField = customerField.member("language")
        let customer = Customer(
            customerNumber: try customerField.member("customerNumber").identifier(),
            company: try customerField.member("company").string(),
            contact: try contact(customerField.member("contact")),
            language: languageField.isAbsent ? .de : try languageField.oneOf(Language.self))

        let portalField = try data.member("portal").object()
        let status = try portalField.member("accountStatus").oneOf(PortalAccountStatus.self)
        let administratorsField = portalField.member("administrators")
        var administrators: [Contact] = []
        if !(status == .pending && administratorsField.isAbsent) {
            for field in try administratorsField.array(maxCount: 50) {
                administrators.append(try contact(field))
            }
        }
        let otpField = portalField.member("oneTimePassword")
        let oneTimePassword = try otpField.optionalString(maxLength: 128).map(Secret.init)

        var items: [OrderItem] = []
        var passwords: [String: Secret] = [:]
        var seenIds = Set<String>()
        for field in try data.member("items").array(maxCount: 500) {
            _ = try field.object()
            let kindField = field.member("kind")
            let kind = try kindField.string(maxLength: 64)
            let basePackageId = try field.member("basePackageId").identifier()
            switch kind {
            case "basePackage":
                guard seenIds.insert("bp:" + basePackageId).inserted else {
                    throw field.member("basePackageId").reject("base package listed twice in one order")
                }
                items.append(.basePackage(BasePackage(basePackageId: basePackageId, name: try field.member("name").string())))
            case "siteProduct":
                let idField = field.member("siteProductId")
                let siteProductId = try idField.identifier()
                guard seenIds.insert("sp:" + siteProductId).inserted else {
                    throw idField.reject("site product listed twice in one order")
                }
                let siteField = try field.member("site").object()
                let site = Site(
                    name: try siteField.member("name").string(),
                    street: try siteField.member("street").string(),
                    postalCode: try siteField.member("postalCode").string(maxLength: 16),
                    city: try siteField.member("city").string())
                var numbers: [String] = []
                for numberField in try field.member("phoneNumbers").array(maxCount: 1000) {
                    let number = try numberField.string(maxLength: 32)
                    guard number.allSatisfy({ $0.isNumber || $0 == " " || $0 == "+" || $0 == "-" || $0 == "/" }) else {
                        throw numberField.reject("must be a phone number of digits, spaces, '+', '-' or '/'")
                    }
                    numbers.append(number)
                }
                let accessField = try field.member("access").object()
                let access = AccessData(
                    lineId: try accessField.member("lineId").identifier(),
                    username: try accessField.member("username").string(maxLength: 128))
                passwords[siteProductId] = Secret(try accessField.member("password").string(maxLength: 128))
                items.append(.siteProduct(SiteProduct(
                    basePackageId: basePackageId, siteProductId: siteProductId, site: site,
                    phoneNumbers: numbers, access: access)))
            case "service":
                items.append(.service(BookedService(
                    basePackageId: basePackageId,
                    serviceId: try field.member("serviceId").identifier(),
                    name: try field.member("name").string())))
            default:
                throw kindField.reject("unknown item kind; expected \"basePackage\", \"siteProduct\" or \"service\"")
            }
        }
        guard !items.isEmpty else { throw data.member("items").reject("must list at least one item") }

        let order = OrderConfirmation(
            orderId: orderId, confirmedAt: confirmedAt, customer: customer,
            portal: Portal(accountStatus: status, administrators: administrators), items: items,
            secrets: OrderSecrets(oneTimePassword: oneTimePassword, accessPasswords: passwords))
        try checkBasePackages(order, itemsPath: data.member("items").path)
        if status == .pending && oneTimePassword == nil {
            throw otpField.reject("is required while the portal account is pending")
        }
        if status == .active && administrators.isEmpty && (!order.siteProducts.isEmpty || !order.basePackages.isEmpty) {
            throw administratorsField.reject("must name at least one administrator for an active account")
        }
        return order
    }

    /// A new customer's (pending account) site products and services must sit on
    /// a base package that the same order adds.
    private func checkBasePackages(_ order: OrderConfirmation, itemsPath: String) throws(EventRejection) {
        guard order.portal.accountStatus == .pending else { return }
        let added = Set(order.basePackages.map(\.basePackageId))
        for (index, item) in order.items.enumerated() {
            let id: String
            switch item {
            case .basePackage: continue
            case .siteProduct(let p): id = p.basePackageId
            case .service(let s): id = s.basePackageId
            }
            if !added.contains(id) {
                throw EventRejection(
                    field: "\(itemsPath)[\(index)].basePackageId",
                    rule: "for a new customer (pending portal account) must name a base package added by the same order")
            }
        }
    }

    private func contact(_ field: JSONField) throws(EventRejection) -> Contact {
        _ = try field.object()
        return Contact(name: try field.member("name").string(), email: try field.member("email").email())
    }
}
