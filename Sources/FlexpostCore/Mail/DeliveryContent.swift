/// The mail a delivery carries, chosen in one place for sending and for
/// `preview`: R1/R2's access data to the contact, R3's notice to one
/// administrator.
public enum DeliveryContent {
    /// - Parameters:
    ///   - order: for access data, with its secrets opened.
    ///   - portalActive: R2 as known now: whether the OTP stays out.
    public static func make(_ kind: DeliveryKind, order: OrderConfirmation, portalActive: Bool, recipient: Contact)
        -> any MailContent
    {
        switch kind {
        case .accessData: AccessDataMail(order: order, portalActive: portalActive)
        case .adminNotice: AdministratorNotice(order: order, administrator: recipient)
        }
    }
}
