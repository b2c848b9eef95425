import Foundation

/// Failed sign-ins (or wrong bearer tokens) per key in a sliding window: at
/// `limit` failures within `window` for any of a request's keys (a client
/// address, a name), further attempts are refused until the oldest of them
/// leaves the window (SPEC §7: 5 within 15 minutes). Pure: time is given.
public struct FailureWindow: Sendable {
    public let limit: Int
    public let window: TimeInterval
    private var failures: [String: [Date]] = [:]

    public init(limit: Int = 5, window: TimeInterval = 15 * 60) {
        self.limit = limit
        self.window = window
    }

    /// How many seconds until an attempt under these keys is taken again; nil: now.
    public func retryAfter(_ keys: [String], at now: Date) -> TimeInterval? {
        let waits = keys.compactMap { key -> TimeInterval? in
            let recent = (failures[key] ?? []).filter { now.timeIntervalSince($0) < window }
            guard recent.count >= limit else { return nil }
            // Taken again once enough of them have left the window.
            let freeing = recent.sorted()[recent.count - limit]
            return freeing.addingTimeInterval(window).timeIntervalSince(now)
        }
        return waits.max()
    }

    /// A failure under each key; entries older than the window are dropped.
    public mutating func record(_ keys: [String], at now: Date) {
        for key in keys {
            failures[key, default: []].append(now)
        }
        if failures.count > 10_000 {
            failures = failures.compactMapValues { dates in
                let recent = dates.filter { now.timeIntervalSince($0) < window }
                return recent.isEmpty ? nil : recent
            }
        }
    }
}
