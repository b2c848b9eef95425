import Foundation

/// Which e-mail a delivery carries.
public enum DeliveryKind: String, Codable, Sendable, CaseIterable {
    /// R1/R2: line id, user name, password (and the OTP while pending) to the customer.
    case accessData = "access-data"
    /// R3: new site products / base packages to each BSP administrator.
    case adminNotice = "admin-notice"
}

/// Where a delivery stands. `sent`, `cancelled`, `dead` and `bounced` are
/// final; `held` waits for an operator's release (``HoldRules``) and is never
/// claimed; `bounced` was `sent` until a bounce said it will not arrive (SPEC §6).
public enum DeliveryState: String, Codable, Sendable, CaseIterable {
    case scheduled, sending, retrying, held, sent, cancelled, dead, bounced

    public var isFinal: Bool { self == .sent || self == .cancelled || self == .dead || self == .bounced }

    /// The states of a delivery that waits for its due time to be claimed.
    public static let waiting: [DeliveryState] = [.scheduled, .retrying]

    /// A claim given back before its attempt started (a graceful stop): the
    /// delivery is as it was before the claim, which counted one attempt more
    /// (`attempts`): `retrying` if it had been tried before, else `scheduled`.
    public static func released(attempts: Int) -> DeliveryState {
        attempts > 1 ? .retrying : .scheduled
    }
}

/// One e-mail to one recipient, as the queue stores it. Holds no secret.
public struct Delivery: Sendable, Equatable, Codable {
    public var id: Int64
    public var orderId: String
    public var kind: DeliveryKind
    public var recipient: Contact
    public var language: Language
    public var state: DeliveryState
    public var dueAt: Date
    /// The original due time; the retry lifetime counts from it.
    public var firstDueAt: Date
    public var messageID: String
    public var attempts: Int
    public var createdAt: Date
    public var sentAt: Date?
    public var lastCode: Int?
    public var lastReply: String?
    /// When it reached a final state (R8 counts from the access data's).
    public var finishedAt: Date?
    /// Whether support's resend (R7) created it.
    public var isResend: Bool

    public init(id: Int64, orderId: String, kind: DeliveryKind, recipient: Contact, language: Language,
                state: DeliveryState, dueAt: Date, firstDueAt: Date, messageID: String, attempts: Int, createdAt: Date,
                sentAt: Date? = nil, lastCode: Int? = nil, lastReply: String? = nil, finishedAt: Date? = nil,
                isResend: Bool = false) {
        self.id = id
        self.orderId = orderId
        self.kind = kind
        self.recipient = recipient
        self.language = language
        self.state = state
        self.dueAt = dueAt
        self.firstDueAt = firstDueAt
        self.messageID = messageID
        self.attempts = attempts
        self.createdAt = createdAt
        self.sentAt = sentAt
        self.lastCode = lastCode
        self.lastReply = lastReply
        self.finishedAt = finishedAt
        self.isResend = isResend
    }
}

/// A delivery the rules want, before it has an id.
public struct PlannedDelivery: Sendable, Equatable {
    public var kind: DeliveryKind
    public var recipient: Contact
    public var language: Language
    public var dueAt: Date
    public var messageID: String

    public init(kind: DeliveryKind, recipient: Contact, language: Language, dueAt: Date, messageID: String) {
        self.kind = kind
        self.recipient = recipient
        self.language = language
        self.dueAt = dueAt
        self.messageID = messageID
    }
}

/// A worker's claim on deliveries: who holds them, and until when.
public struct Lease: Sendable, Equatable {
    public var owner: String
    public var expiresAt: Date
    public init(owner: String, expiresAt: Date) {
        self.owner = owner
        self.expiresAt = expiresAt
    }
}

/// What one SMTP attempt ended in, as the queue records it.
public struct AttemptRecord: Sendable, Equatable {
    public var startedAt: Date
    public var finishedAt: Date
    /// The state the delivery moves to: `sent`, `retrying` or `dead`.
    public var nextState: DeliveryState
    /// When `retrying`: the next attempt's due time.
    public var retryAt: Date?
    public var replyCode: Int?
    /// The server's reply or the failure's description; never a secret.
    public var reply: String

    public init(startedAt: Date, finishedAt: Date, nextState: DeliveryState, retryAt: Date?, replyCode: Int?, reply: String) {
        self.startedAt = startedAt
        self.finishedAt = finishedAt
        self.nextState = nextState
        self.retryAt = retryAt
        self.replyCode = replyCode
        self.reply = reply
    }
}

/// How an event's intake ended (SPEC §4: `enqueue` lines, HTTP status).
public enum IntakeOutcome: String, Sendable, Equatable {
    case accepted, duplicate, conflict
}
