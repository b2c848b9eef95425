import Foundation

/// The operators' side of the store (SPEC §8): the holds in force, and hold
/// and release decisions read and recorded in one transaction.
public protocol HoldStore: Sendable {
    /// The holds in force, oldest first.
    func holds() async throws -> [Hold]

    /// Reads the ``HoldFacts`` (the holds in force; whether `orderId`, when
    /// given, is a known order), hands them to a pure decision
    /// (``HoldRules``) and records its ``HoldChange``s, in one transaction.
    func decideHolds(orderId: String?, _ decide: @escaping @Sendable (HoldFacts) -> HoldDecision) async throws
        -> HoldResult

    /// Gives back deliveries `owner` claimed and did not start because a hold
    /// began meanwhile: `held`, as they were before the claim (the attempt the
    /// claim counted is not counted), with `note` in their orders' history.
    func holdClaims(_ ids: [Int64], owner: String, note: HistoryEntry) async throws
}

extension HoldStore {
    public func hold(_ request: HoldRequest, at: Date) async throws -> HoldResult {
        try await decideHolds(orderId: request.scope.orderId) { HoldRules.hold(request, facts: $0, at: at) }
    }

    public func release(_ request: HoldRequest, at: Date) async throws -> HoldResult {
        // Releasing needs no known order: a hold on an order since erased can still be lifted.
        try await decideHolds(orderId: nil) { HoldRules.release(request, facts: $0, at: at) }
    }
}
