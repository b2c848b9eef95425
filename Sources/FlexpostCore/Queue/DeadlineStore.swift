import Foundation

/// How long the calls through a ``DeadlineStore`` may take, and when its
/// caller gives them up early.
public struct StoreDeadlines: Sendable {
    /// How long one call may take before the caller gets ``StoreTimeout``.
    public var seconds: Double
    /// Looked at while a read, a claim or a renewal waits (every 250 ms); once
    /// true, the caller gets ``StoreCallAbandoned`` (a graceful stop). Never
    /// applied to a call that records something: an attempt, an intake, a
    /// decision, a release.
    public var abandonIf: (@Sendable () -> Bool)?

    public init(seconds: Double, abandonIf: (@Sendable () -> Bool)? = nil) {
        self.seconds = seconds
        self.abandonIf = abandonIf
    }

    /// A request's calls (a webhook, a support page or command): webhook
    /// senders commonly give up after 10–30 s.
    public static let requests = StoreDeadlines(seconds: StoreTimeout.requestSeconds)
    /// A health check's or a metrics scrape's calls: the prober's own timeout is short.
    public static let probes = StoreDeadlines(seconds: 3)
    /// Giving claims back is bounded more tightly: at a stop, a store that does
    /// not answer lets the leases run out instead of holding the stop.
    public static let releaseSeconds: Double = 3
}

/// The one layer that bounds store calls: every call made through it is
/// answered within its ``StoreDeadlines``, also when the store's driver does
/// not honour cancellation (a stuck connection, a locked database). Callers
/// (routes, the delivery worker and loop) call the store plainly; the
/// composition root picks the deadlines, and the stores themselves have none.
///
/// A call answered with ``StoreTimeout`` may still finish in the store later:
/// an intake then answers the sender's retry as a duplicate.
public struct DeadlineStore: QueueStore {
    public let base: any QueueStore
    public let deadlines: StoreDeadlines

    /// `store` bounded by `deadlines`; a store already bounded gets the new
    /// deadlines instead of a second layer.
    public init(_ store: any QueueStore, _ deadlines: StoreDeadlines) {
        self.base = (store as? DeadlineStore)?.base ?? store
        self.deadlines = deadlines
    }

    /// A call that records something: never given up at a stop.
    func recording<T: Sendable>(_ operation: String, seconds: Double? = nil,
                                _ call: @escaping @Sendable (any QueueStore) async throws -> T) async throws -> T {
        let base = self.base
        return try await withStoreDeadline(seconds ?? deadlines.seconds, operation) { try await call(base) }
    }

    /// A read, claim or renewal, given up once `abandonIf` says the caller
    /// stops; or several reads under one deadline (a scrape's figures).
    public func asking<T: Sendable>(_ operation: String,
                             _ call: @escaping @Sendable (any QueueStore) async throws -> T) async throws -> T {
        let base = self.base
        return try await withStoreDeadline(deadlines.seconds, operation, abandonIf: deadlines.abandonIf) {
            try await call(base)
        }
    }
}
