import FlexpostCore
import Foundation

/// The claims a delivery pass holds and has not started yet, and their lease:
/// renewed before an attempt could outlast it. A claim the renewal does not
/// return was taken over by another worker (its lease had run out) and must
/// not be sent.
struct LeaseKeeper {
    let leaseSeconds: TimeInterval
    /// Extends every claim the pass's owner holds until the given time; returns their ids.
    let renew: @Sendable (_ until: Date) async throws -> Set<Int64>
    private var expiresAt = Date.distantFuture
    private var held = Set<Int64>()

    init(leaseSeconds: TimeInterval, renew: @escaping @Sendable (Date) async throws -> Set<Int64>) {
        self.leaseSeconds = leaseSeconds
        self.renew = renew
    }

    /// A batch was claimed. The earliest lease still held decides when to
    /// renew; with nothing in flight (`idle`) only this batch's counts.
    mutating func claimed(_ batch: ClaimedBatch, idle: Bool) {
        held.formUnion(batch.deliveries.map(\.id))
        expiresAt = min(idle ? .distantFuture : expiresAt, batch.claimedAt.addingTimeInterval(leaseSeconds))
    }

    /// Renews the lease when an attempt started at `now` could outlast it.
    mutating func renewIfDue(at now: Date) async throws {
        guard now.addingTimeInterval(leaseSeconds / 2) > expiresAt else { return }
        let until = now.addingTimeInterval(leaseSeconds)
        expiresAt = until
        held = try await renew(until)
    }

    /// Whether the claim is still held; if so it counts as started from now on.
    mutating func start(_ deliveryId: Int64) -> Bool { held.remove(deliveryId) != nil }
}
