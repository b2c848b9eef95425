import Foundation

/// When a transiently failed delivery is tried again: exponential backoff
/// with jitter, capped, until the retry lifetime is over (SPEC §5).
public struct RetryPolicy: Sendable {
    public var firstDelay: TimeInterval
    public var maximumDelay: TimeInterval
    public var lifetime: TimeInterval
    /// Fraction of the delay added or removed at random (0.2 = ±20 %).
    public var jitter: Double

    public init(firstDelay: TimeInterval = 60, maximumDelay: TimeInterval = 3600,
                lifetime: TimeInterval = 3 * 86_400, jitter: Double = 0.2) {
        self.firstDelay = firstDelay
        self.maximumDelay = maximumDelay
        self.lifetime = lifetime
        self.jitter = jitter
    }

    /// The next attempt's time after `attempts` failed attempts, or nil when the
    /// lifetime (counted from `firstDue`) would be exceeded: the delivery is dead.
    /// - Parameter random: a value in 0..<1 (injected for tests).
    public func nextAttempt(after attempts: Int, now: Date, firstDue: Date, random: Double) -> Date? {
        let exponent = Double(max(0, min(attempts - 1, 30)))
        let base = min(maximumDelay, firstDelay * pow(2, exponent))
        let delay = base * (1 + jitter * (2 * random - 1))
        let next = now.addingTimeInterval(delay)
        return next.timeIntervalSince(firstDue) > lifetime ? nil : next
    }
}
