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

    public func view(dates: LocalDateFormat) -> TemplateView {
        var view = order.commonView(dates: dates)
        view["administratorName"] = .text(administrator.name)
        view["basePackages"] = order.groupedByBasePackage { _ in nil }
        view["newBasePackages"] = .list(order.basePackages.map { ["basePackageId": .text($0.basePackageId), "name": .text($0.name)] })
        view["hasNewBasePackages"] = .flag(!order.basePackages.isEmpty)
        view["hasSiteProducts"] = .flag(!order.siteProducts.isEmpty)
        return view
    }
}
