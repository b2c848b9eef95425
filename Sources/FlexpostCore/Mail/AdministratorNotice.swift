/// R3: the notice to one BSP administrator that new site products or base
/// packages are available in the portal. Never carries a credential: its view
/// is built without access to the order's secrets.
public struct AdministratorNotice: MailContent {
    public let order: OrderConfirmation
    public let administrator: Contact
    public var kind: DeliveryKind { .adminNotice }

    public init(order: OrderConfirmation, administrator: Contact) {
        var withoutSecrets = order
        withoutSecrets.secrets = OrderSecrets()
        self.order = withoutSecrets
        self.administrator = administrator
    }

    public func view(dates: LocalDateFormat) -> [String: Any] {
        var view = order.commonView(dates: dates)
        view["administratorName"] = administrator.name
        view["basePackages"] = order.groupedByBasePackage { _ in nil }
        view["newBasePackages"] = order.basePackages.map { ["basePackageId": $0.basePackageId, "name": $0.name] }
        view["hasNewBasePackages"] = !order.basePackages.isEmpty
        view["hasSiteProducts"] = !order.siteProducts.isEmpty
        return view
    }
}
