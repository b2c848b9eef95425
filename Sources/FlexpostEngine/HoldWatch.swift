import FlexpostCore
import Foundation

/// The holds in force as a delivery pass last read them, never older than
/// `maximumAge` of elapsed time: a hold taken while a pass runs stops what the
/// pass has claimed and not started yet (SPEC §8). One cheap read of a small
/// table at most every `maximumAge`, whatever the pass's rate.
struct HoldWatch {
    let maximumAge: Duration
    let read: @Sendable () async throws -> [Hold]
    private var holds: [Hold] = []
    private var readAt: ContinuousClock.Instant?

    init(maximumAge: Duration = .milliseconds(100), read: @escaping @Sendable () async throws -> [Hold]) {
        self.maximumAge = maximumAge
        self.read = read
    }

    /// Of `deliveries` (claimed, not started), the ones a hold in force covers.
    mutating func covered(_ deliveries: some Collection<Delivery>) async throws -> [Delivery] {
        let now = ContinuousClock.now
        if readAt.map({ now - $0 >= maximumAge }) ?? true {
            holds = try await read()
            readAt = now
        }
        return holds.isEmpty ? [] : HoldRules.covered(Array(deliveries), by: holds)
    }
}
