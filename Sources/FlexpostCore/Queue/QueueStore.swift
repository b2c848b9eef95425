import Foundation

/// A keyed digest of an event's content: equal content, equal fingerprint.
public struct EventFingerprint: Sendable, Equatable {
    public var keyId: String
    public var digest: [UInt8]
    public init(keyId: String, digest: [UInt8]) {
        self.keyId = keyId
        self.digest = digest
    }
}

/// An event's identity for idempotency: its natural key, and a way to
/// fingerprint its content under a given key (the stored fingerprint's key,
/// so that key rotation does not turn duplicates into conflicts).
public struct EventIdentity: Sendable {
    public var type: EventType
    public var key: String
    /// nil key id: the newest key.
    public var fingerprint: @Sendable (_ keyId: String?) -> EventFingerprint?
    /// The fingerprint an earlier flexpost stored for the same content (an
    /// older canonical form); only computed when the current one differs.
    public var legacyFingerprint: @Sendable (_ keyId: String) -> EventFingerprint?

    public init(type: EventType, key: String, fingerprint: @escaping @Sendable (String?) -> EventFingerprint?,
                legacyFingerprint: @escaping @Sendable (String) -> EventFingerprint? = { _ in nil }) {
        self.type = type
        self.key = key
        self.fingerprint = fingerprint
        self.legacyFingerprint = legacyFingerprint
    }

    /// Whether `stored` fingerprints this event's content (a duplicate, not a conflict).
    public func sameContent(as stored: EventFingerprint) -> Bool {
        guard let current = fingerprint(stored.keyId) else { return false }
        return current == stored || legacyFingerprint(stored.keyId) == stored
    }
}

/// An order ready to be stored: the plan from the rules and its sealed secrets.
public struct PreparedOrder: Sendable {
    public var plan: OrderIntakePlan
    public var sealedSecrets: [SealedSecret]
    public init(plan: OrderIntakePlan, sealedSecrets: [SealedSecret]) {
        self.plan = plan
        self.sealedSecrets = sealedSecrets
    }
}

/// What a worker needs to render an order's mail: the document, the sealed
/// secrets, and what is known now about the customer's portal account.
public struct StoredOrder: Sendable {
    public var order: OrderConfirmation
    public var sealedSecrets: [SealedSecret]
    public var portalActive: Bool
    public var cancelled: Bool
    public var secretsPurged: Bool

    public init(order: OrderConfirmation, sealedSecrets: [SealedSecret], portalActive: Bool, cancelled: Bool,
                secretsPurged: Bool) {
        self.order = order
        self.sealedSecrets = sealedSecrets
        self.portalActive = portalActive
        self.cancelled = cancelled
        self.secretsPurged = secretsPurged
    }
}

/// One line of an order's history (intake, cancellation, resend, purge...).
public struct HistoryEntry: Sendable, Equatable, Codable {
    public var at: Date
    public var actor: String
    public var action: String
    public var detail: String

    public init(at: Date, actor: String, action: String, detail: String) {
        self.at = at
        self.actor = actor
        self.action = action
        self.detail = detail
    }
}

/// One recorded SMTP attempt of a delivery.
public struct AttemptEntry: Sendable, Equatable, Codable {
    public var deliveryId: Int64
    public var startedAt: Date
    public var finishedAt: Date
    public var outcome: DeliveryState
    public var replyCode: Int?
    public var reply: String

    public init(deliveryId: Int64, startedAt: Date, finishedAt: Date, outcome: DeliveryState, replyCode: Int?,
                reply: String) {
        self.deliveryId = deliveryId
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.outcome = outcome
        self.replyCode = replyCode
        self.reply = reply
    }
}

/// How a resend request ended (R7).
public enum ResendOutcome: Sendable, Equatable {
    /// New deliveries, due now, to the same recipients as before.
    case scheduled([Delivery])
    case unknownOrder
    /// The access data cannot be sent again: its secrets were purged or the order cancelled.
    case secretsGone
    /// The order never had a delivery of this kind (nobody to resend to).
    case nothingToResend
    /// `FLEXPOST_RESEND_LIMIT` reached for this order in the last 24 hours.
    case limitReached(Int)
}

/// A support agent's request to send an order's mail again (R7).
public struct ResendRequest: Sendable, Equatable {
    public var orderId: String
    public var kind: DeliveryKind
    public var actor: String
    public var reason: String
    public init(orderId: String, kind: DeliveryKind, actor: String, reason: String) {
        self.orderId = orderId
        self.kind = kind
        self.actor = actor
        self.reason = reason
    }
}

/// How one attempt at a claimed delivery ended, ready to be recorded.
public struct CompletedAttempt: Sendable {
    public var deliveryId: Int64
    public var attempt: AttemptRecord
    public init(deliveryId: Int64, attempt: AttemptRecord) {
        self.deliveryId = deliveryId
        self.attempt = attempt
    }
}

/// The durable queue: intake is atomic and idempotent, claims are leased and
/// exclusive, and every attempt is recorded. Implemented on SQLite (and, for
/// scale-out, PostgreSQL); one conformance suite tests them all.
public protocol QueueStore: Sendable {
    /// Stores an `order.confirmed` with its deliveries in one transaction.
    /// `prepare` runs inside it with whether the customer's portal is known active.
    func recordOrder(
        _ identity: EventIdentity, customerNumber: String, receivedAt: Date,
        prepare: @escaping @Sendable (_ portalKnownActive: Bool) -> PreparedOrder
    ) async throws -> IntakeOutcome

    /// R5: cancels unsent deliveries and destroys the order's secrets.
    func recordCancellation(_ identity: EventIdentity, _ cancellation: OrderCancellation, receivedAt: Date) async throws
        -> IntakeOutcome

    /// Marks the customer's portal account active (R2).
    func recordActivation(_ identity: EventIdentity, _ activation: PortalActivation, receivedAt: Date) async throws
        -> IntakeOutcome

    /// Claims up to `limit` deliveries due at `now` (or whose lease expired).
    func claimDue(at now: Date, limit: Int, lease: Lease) async throws -> [Delivery]

    /// Extends the lease of every claim `owner` still holds; returns their ids.
    /// A claim missing from the answer was taken over and must not be sent.
    func renewClaims(owner: String, until: Date) async throws -> Set<Int64>

    /// Records attempts and moves their deliveries on, all in one transaction
    /// (group commit). Answers, in order, whether `owner` still held each claim;
    /// a claim taken over meanwhile is left as it is.
    func complete(_ attempts: [CompletedAttempt], owner: String) async throws -> [Bool]

    /// Gives claims back (graceful shutdown): they become due again at once.
    func releaseClaims(owner: String) async throws

    /// R7: schedules the order's mail of one kind again, due `at`, to the
    /// recipients it had, each with a new Message-ID; records actor and reason.
    func resend(_ request: ResendRequest, at: Date, limitPerDay: Int,
                messageID: @escaping @Sendable () -> String) async throws -> ResendOutcome

    /// R8: destroys the secrets of orders whose access-data mail ended (or
    /// that were cancelled) before `cutoff`. Returns how many orders.
    func purgeSecrets(finishedBefore cutoff: Date, at: Date) async throws -> Int

    /// Re-encrypts every stored secret not sealed under `newestKeyId`, a few
    /// at a time. `reseal` returns nil for a secret it cannot open (counted as failed).
    func rekey(newestKeyId: String, reseal: @escaping @Sendable (_ orderId: String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)

    func storedOrder(_ orderId: String) async throws -> StoredOrder?
    /// Several orders in one read (a claimed batch's); unknown ids are left out.
    func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder]
    func deliveries(orderId: String) async throws -> [Delivery]
    func deliveries(state: DeliveryState?, limit: Int) async throws -> [Delivery]
    /// Dead deliveries whose end was recorded from `from` to `to` (both
    /// included), the earliest end first (what an incident killed), or the
    /// latest first (what the support console lists).
    func deadDeliveries(endedFrom from: Date, to: Date, limit: Int, newestFirst: Bool) async throws -> [Delivery]
    func attempts(orderId: String) async throws -> [AttemptEntry]
    func history(orderId: String) async throws -> [HistoryEntry]
    /// How many deliveries are in each state (for metrics and `list`).
    func countsByState() async throws -> [DeliveryState: Int]

    /// How many deliveries are due at `now` (capped at `limit`): `drain`'s total.
    func dueCount(at now: Date, limit: Int?) async throws -> Int

    /// The earliest due time among deliveries that are due and waiting at `now`.
    func oldestWaitingDue(at now: Date) async throws -> Date?

    /// The earliest due time of a delivery waiting to be sent.
    func nextDueDate() async throws -> Date?
}

extension QueueStore {
    public func storedOrders(_ orderIds: Set<String>) async throws -> [String: StoredOrder] {
        var orders: [String: StoredOrder] = [:]
        for orderId in orderIds {
            orders[orderId] = try await storedOrder(orderId)
        }
        return orders
    }

    /// Records one attempt; see ``complete(_:owner:)``.
    @discardableResult
    public func complete(deliveryId: Int64, owner: String, attempt: AttemptRecord) async throws -> Bool {
        try await complete([CompletedAttempt(deliveryId: deliveryId, attempt: attempt)], owner: owner).first ?? false
    }
}
