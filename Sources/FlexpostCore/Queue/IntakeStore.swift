import Foundation

/// Intake: each event stored in one transaction, idempotent by natural key
/// and content fingerprint (SPEC §2), durable before it is acknowledged.
public protocol IntakeStore: Sendable {
    /// Stores an `order.confirmed` with its deliveries in one transaction.
    /// `prepare` runs inside it with whether the customer's portal is known active.
    func recordOrder(
        _ identity: EventIdentity, customerNumber: String, receivedAt: Date,
        prepare: @escaping @Sendable (_ portalKnownActive: Bool) -> PreparedOrder
    ) async throws -> IntakeOutcome

    /// Stores an `order.cancelled` and records R5's decision
    /// (``OrderLifecycle/cancel(_:at:cancelledAt:)``) in the same transaction.
    func recordCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date) async throws
        -> IntakeOutcome

    /// Marks the customer's portal account active (R2).
    /// SPEC §6: a recipient correction, idempotent like every event; its
    /// effect is ``RecipientCorrection/apply(_:current:orders:at:messageID:)``
    /// over the customer's orders, in the same transaction.
    func recordRecipientChange(_ identity: EventIdentity, _ change: RecipientChange, receivedAt: Date,
                               messageID: @escaping @Sendable () -> String) async throws -> IntakeOutcome

    func recordActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date) async throws
        -> IntakeOutcome
}
