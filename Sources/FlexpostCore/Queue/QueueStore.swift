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

    public init(type: EventType, key: String, fingerprint: @escaping @Sendable (String?) -> EventFingerprint?) {
        self.type = type
        self.key = key
        self.fingerprint = fingerprint
    }

    /// Whether `stored` fingerprints this event's content (a duplicate, not a conflict).
    public func sameContent(as stored: EventFingerprint) -> Bool {
        fingerprint(stored.keyId) == stored
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
    /// The order as confirmed; nil once its personal data was erased (SPEC §8).
    public var order: OrderConfirmation?
    public var customerNumber: String
    public var sealedSecrets: [SealedSecret]
    public var portalActive: Bool
    public var cancelled: Bool
    public var secretsPurged: Bool
    /// When the order's personal data was erased (retention or a data subject's request).
    public var personalDataErasedAt: Date?
    /// When the customer's portal account became active, as far as flexpost knows.
    public var activatedAt: Date?

    public init(order: OrderConfirmation?, customerNumber: String, sealedSecrets: [SealedSecret], portalActive: Bool,
                cancelled: Bool, secretsPurged: Bool, personalDataErasedAt: Date? = nil, activatedAt: Date? = nil) {
        self.order = order
        self.customerNumber = customerNumber
        self.sealedSecrets = sealedSecrets
        self.portalActive = portalActive
        self.cancelled = cancelled
        self.secretsPurged = secretsPurged
        self.personalDataErasedAt = personalDataErasedAt
        self.activatedAt = activatedAt
    }
}

/// One line of an order's history (intake, cancellation, resend, purge...).
public struct HistoryEntry: Sendable, Equatable, Codable {
    public var at: Date
    public var actor: String
    public var action: HistoryAction
    public var detail: String

    public init(at: Date, actor: String, action: HistoryAction, detail: String) {
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
    case refused(ResendRefusal)
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

/// The durable queue, as its users see it: intake is atomic and idempotent,
/// claims are leased and exclusive, every attempt is recorded, and the rules'
/// decisions are recorded in the transaction that read their facts.
/// Implemented on SQLite and, for scale-out, PostgreSQL; one conformance
/// suite runs every role against both.
public typealias QueueStore = IntakeStore & DeliveryQueue & LifecycleStore & SupportReads & StoreMaintenance & HoldStore
    & SessionStore & DeliveryEventOutbox & SearchIndex
