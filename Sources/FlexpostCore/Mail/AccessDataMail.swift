/// R1/R2: the customer's access-data e-mail. Carries the router passwords and,
/// only while the portal account is not active at sending, the BSP one-time password.
public struct AccessDataMail: MailContent {
    public let order: OrderConfirmation
    /// Decided at the moment of sending (R2).
    public let portalActive: Bool
    public var kind: DeliveryKind { .accessData }

    public init(order: OrderConfirmation, portalActive: Bool) {
        self.order = order
        self.portalActive = portalActive
    }

    /// R2, the one rule: the one-time password goes only to a portal account
    /// not active at the moment of sending, and only if one is stored.
    public static func includesOneTimePassword(portalActive: Bool, hasOneTimePassword: Bool) -> Bool {
        !portalActive && hasOneTimePassword
    }

    public func view(dates: LocalDateFormat) -> TemplateView {
        var view = order.commonView(dates: dates)
        view["basePackages"] = order.groupedByBasePackage { product in
            order.secrets.accessPasswords[product.siteProductId]?.exposedValue
        }
        view["hasSiteProducts"] = .flag(!order.siteProducts.isEmpty)
        view["portalActive"] = .flag(portalActive)
        if let otp = order.secrets.oneTimePassword,
            Self.includesOneTimePassword(portalActive: portalActive, hasOneTimePassword: true)
        {
            view["oneTimePassword"] = .text(otp.exposedValue)
        }
        return view
    }
}
