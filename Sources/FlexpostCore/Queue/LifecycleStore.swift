import Foundation

/// The rules' side of the store: it reads the ``OrderFacts`` of some orders,
/// hands them to a pure decision, and records the decision's
/// ``QueueChange``s, all in one transaction (on PostgreSQL with the orders'
/// rows locked, so that concurrent decisions about one order serialise).
public protocol LifecycleStore: Sendable {
    /// - Parameter decide: the rule, given the facts of each known order
    ///   (unknown ids are left out); it runs inside the transaction.
    func decide<Outcome: Sendable>(
        orderIds: [String], _ decide: @escaping @Sendable ([String: OrderFacts]) -> Decision<Outcome>
    ) async throws -> Recorded<Outcome>
}

extension LifecycleStore {
    /// R7: schedules the order's mail of one kind again, due `at`, to the
    /// recipients it had, each with a new Message-ID; records actor and reason
    /// (``OrderLifecycle/resend(_:facts:at:limitPerDay:messageID:)``).
    public func resend(_ request: ResendRequest, at: Date, limitPerDay: Int,
                       messageID: @escaping @Sendable () -> String) async throws -> ResendOutcome {
        let recorded = try await decide(orderIds: [request.orderId]) { facts in
            OrderLifecycle.resend(request, facts: facts[request.orderId], at: at, limitPerDay: limitPerDay,
                                  messageID: messageID)
        }
        if let refusal = recorded.outcome { return .refused(refusal) }
        return .scheduled(recorded.scheduled)
    }
}

extension LifecycleStore where Self: SupportReads {
    /// SPEC §8: cancels one delivery
    /// (``OrderLifecycle/cancelDelivery(_:facts:at:)``).
    /// - Returns: nil when cancelled, else why not.
    public func cancelDelivery(_ request: DeliveryCancellation, at: Date) async throws -> DeliveryCancellationRefusal? {
        guard let orderId = try await orderId(ofDelivery: request.deliveryId) else { return .unknownDelivery }
        return try await decide(orderIds: [orderId]) { facts in
            OrderLifecycle.cancelDelivery(request, facts: facts[orderId], at: at)
        }.outcome
    }
}

extension LifecycleStore where Self: SupportReads {
    /// SPEC §8: a data subject's request: every order of the customer has its
    /// unsent deliveries cancelled and its secrets and personal data erased,
    /// in one transaction (``PersonalDataErasure/erase(_:facts:at:)``).
    /// - Returns: nil for a customer the queue has no order of.
    public func erase(_ request: ErasureRequest, at: Date) async throws -> ErasureOutcome? {
        let orderIds = try await orderIds(customerNumber: request.customerNumber)
        guard !orderIds.isEmpty else { return nil }
        return try await decide(orderIds: orderIds) { facts in
            PersonalDataErasure.erase(request, facts: orderIds.compactMap { facts[$0] }, at: at)
        }.outcome
    }
}
