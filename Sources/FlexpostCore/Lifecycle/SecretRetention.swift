import Foundation

/// R8: an order's secrets are destroyed `days` after its access-data mail
/// ended (every access-data delivery final, counted from the last to end) or
/// after the order was cancelled. Delivery records without secrets stay.
public struct SecretRetention: Sendable, Equatable {
    public var days: Int

    public init(days: Int) { self.days = days }

    /// Orders whose mail ended before this moment are due for the purge at `now`.
    public func cutoff(at now: Date) -> Date { now.addingTimeInterval(-Double(days) * 86_400) }

    /// Whether the order's secrets are due for destruction at `now`.
    public func expired(_ facts: OrderFacts, at now: Date) -> Bool {
        guard facts.holdsSecrets && !facts.secretsPurged else { return false }
        let cutoff = cutoff(at: now)
        if let cancelledAt = facts.cancelledAt, cancelledAt < cutoff { return true }
        let accessData = facts.deliveries.filter { $0.kind == .accessData }
        guard !accessData.isEmpty, accessData.allSatisfy(\.state.isFinal),
            let lastEnd = accessData.compactMap(\.finishedAt).max()
        else { return false }
        return lastEnd < cutoff
    }

    /// The purge of the orders among `facts` that are due at `now`; the
    /// outcome is how many.
    public func purge(_ facts: [OrderFacts], at now: Date) -> Decision<Int> {
        let due = facts.filter { expired($0, at: now) }
        return Decision(due.count, changes: due.flatMap { order -> [QueueChange] in
            [
                .destroySecrets(orderId: order.orderId, at: now),
                .note(orderId: order.orderId, HistoryEntry(at: now, actor: SystemActor.flexpost, action: .purged,
                                                           detail: "secrets destroyed after the retention period (R8)")),
            ]
        })
    }
}
