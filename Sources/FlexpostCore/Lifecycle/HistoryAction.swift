/// What a line of an order's history records. The raw values are what
/// `status` prints and the stores keep; an unknown one read back is an error.
public enum HistoryAction: String, Codable, Sendable, CaseIterable {
    /// The order was stored with its deliveries (or R4: nothing to send).
    case confirmed
    /// R5: unsent deliveries cancelled, secrets destroyed (or the cancellation
    /// arrived before the order and is remembered).
    case cancelled
    /// R5: the cancellation came after everything was sent; nothing changed.
    case cancellationRecorded = "cancellation-recorded"
    /// R7: support asked for the mail again and it was scheduled.
    case resend
    /// R7: a resend was refused (limit reached, secrets gone).
    case resendRefused = "resend-refused"
    /// R8: the secrets were destroyed after the retention period.
    case purged
    /// SPEC §8: an operator's hold made deliveries `held`.
    case held
    /// SPEC §8: a release made held deliveries due again.
    case released
    /// SPEC §8: an operator cancelled one delivery.
    case deliveryCancelled = "delivery-cancelled"
    /// SPEC §8: the order's personal data was erased (retention or on request).
    case personalDataErased = "personal-data-erased"
    /// SPEC §6: a bounce said the mail will not arrive.
    case bounced
    /// SPEC §6: a server on the way reported a delay; the mail is still `sent`.
    case bounceDelayed = "bounce-delayed"
    /// SPEC §6: the order system corrected the recipients of unsent mail.
    case recipientsChanged = "recipients-changed"
}

/// Who acts when nobody from support does.
public enum SystemActor {
    /// Events from the order system (confirmations, cancellations).
    public static let orderSystem = "order-system"
    /// flexpost itself (retention).
    public static let flexpost = "flexpost"
    /// A bounce or delay report from a mail server (SPEC §6).
    public static let bounce = "bounce"
}
