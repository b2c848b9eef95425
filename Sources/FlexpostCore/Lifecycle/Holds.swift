import Foundation

/// What a hold covers (SPEC §8): everything, one kind of mail, one order, or
/// one kind of one order. A delivery is covered when every part that is set
/// matches it.
public struct HoldScope: Sendable, Hashable {
    public var kind: DeliveryKind?
    public var orderId: String?

    public init(kind: DeliveryKind? = nil, orderId: String? = nil) {
        self.kind = kind
        self.orderId = orderId
    }

    public static let everything = HoldScope()

    public func covers(kind: DeliveryKind, orderId: String) -> Bool {
        (self.kind == nil || self.kind == kind) && (self.orderId == nil || self.orderId == orderId)
    }

    public func covers(_ delivery: Delivery) -> Bool { covers(kind: delivery.kind, orderId: delivery.orderId) }

    /// Whether `other` lies within this scope: releasing this scope lifts it.
    public func contains(_ other: HoldScope) -> Bool {
        (kind == nil || kind == other.kind) && (orderId == nil || orderId == other.orderId)
    }

    /// `everything`, `access-data`, `order 4711`, `access-data of order 4711`.
    public var description: String { description(in: .english) }

    /// The scope in the console's language (`alles`, `Auftrag 4711`, … in German).
    public func description(in language: UILanguage) -> String {
        let german = language == .german
        switch (kind, orderId) {
        case (nil, nil): return german ? "alles" : "everything"
        case (let kind?, nil): return kind.rawValue
        case (nil, let orderId?): return german ? "Auftrag \(orderId)" : "order \(orderId)"
        case (let kind?, let orderId?): return german ? "\(kind.rawValue) von Auftrag \(orderId)" : "\(kind.rawValue) of order \(orderId)"
        }
    }

    /// The SQL condition "a hold in force covers this delivery", over the
    /// `holds` table, for a delivery whose kind and order id are the given SQL
    /// expressions: ``covers(kind:orderId:)`` as both stores write it.
    public static func sqlCovered(kind: String, orderId: String) -> String {
        """
        EXISTS (SELECT 1 FROM holds h WHERE (h.kind IS NULL OR h.kind = \(kind)) \
        AND (h.order_id IS NULL OR h.order_id = \(orderId)))
        """
    }
}

/// A hold in force: taken by whom, why and when.
public struct Hold: Sendable, Equatable {
    public var id: Int64
    public var scope: HoldScope
    public var actor: String
    public var reason: String
    public var since: Date

    public init(id: Int64, scope: HoldScope, actor: String, reason: String, since: Date) {
        self.id = id
        self.scope = scope
        self.actor = actor
        self.reason = reason
        self.since = since
    }

    /// `everything, since 2026-12-01T07:00:00Z by ops: relay incident`.
    public var summary: String { summary(in: .english, time: nil) }

    /// The summary in the console's language, the time local when `time` is given.
    public func summary(in language: UILanguage, time: LocalDisplayTime?) -> String {
        let at = time?.format(since) ?? RFC3339.format(since)
        return language == .german ? "\(scope.description(in: language)), seit \(at) von \(actor): \(reason)"
            : "\(scope.description), since \(at) by \(actor): \(reason)"
    }
}

/// An operator's hold or release (SPEC §8), from the CLI, the API or the console.
public struct HoldRequest: Sendable, Equatable {
    public var scope: HoldScope
    public var actor: String
    public var reason: String

    public init(scope: HoldScope, actor: String, reason: String) {
        self.scope = scope
        self.actor = actor
        self.reason = reason
    }
}

/// What the store knows when a hold or a release is decided, read in the
/// transaction that records the decision.
public struct HoldFacts: Sendable, Equatable {
    /// The holds in force, oldest first.
    public var holds: [Hold]
    /// Whether the order the request names is known (true when it names none).
    public var orderKnown: Bool

    public init(holds: [Hold], orderKnown: Bool) {
        self.holds = holds
        self.orderKnown = orderKnown
    }
}

/// One write of a hold or release decision; each store persists every case
/// in its own SQL and decides nothing.
public enum HoldChange: Sendable, Equatable {
    /// A new hold in force.
    case addHold(HoldRequest, at: Date)
    /// Holds lifted.
    case removeHolds(ids: [Int64])
    /// Every `scheduled` or `retrying` delivery a hold in force covers
    /// (``HoldScope/sqlCovered(kind:orderId:)``) becomes `held`, remembering the
    /// state it had; each order concerned gets `note` in its history.
    case holdCovered(note: HistoryEntry)
    /// Every `held` delivery no hold in force covers goes back to the state it
    /// had, due at its time (at once when that passed); each order concerned
    /// gets `note` in its history.
    case releaseUncovered(note: HistoryEntry)
}

/// A hold or release decision: its answer and the writes it asks for.
public struct HoldDecision: Sendable, Equatable {
    public var outcome: HoldOutcome
    public var changes: [HoldChange]

    public init(_ outcome: HoldOutcome, changes: [HoldChange] = []) {
        self.outcome = outcome
        self.changes = changes
    }
}

/// How a hold or release request was answered.
public enum HoldOutcome: Sendable, Equatable {
    /// The hold is in force now.
    case held
    /// A hold with the same scope was already in force; nothing changed.
    case alreadyHeld(Hold)
    /// The holds within the scope were lifted; `stillHeldBy` are the holds in
    /// force that still cover part of the scope.
    case released(lifted: [Hold], stillHeldBy: [Hold])
    /// No hold within the scope was in force.
    case nothingHeld(stillHeldBy: [Hold])
    /// The request names an order the queue does not know.
    case unknownOrder
}

/// A decision once recorded: its answer and how many deliveries changed.
public struct HoldResult: Sendable, Equatable {
    public var outcome: HoldOutcome
    /// Deliveries that became `held`.
    public var held: Int
    /// Deliveries that left `held`.
    public var released: Int

    public init(outcome: HoldOutcome, held: Int, released: Int) {
        self.outcome = outcome
        self.held = held
        self.released = released
    }
}

/// SPEC §8, hold and release, as pure decisions over the holds in force. A
/// hold is a record that lasts until it is released: deliveries it covers
/// become `held` when it is taken, and so do those that arrive or fall due
/// while it lasts; no worker claims a held delivery. Releasing a scope lifts
/// every hold within it; deliveries another hold still covers stay held.
public enum HoldRules {
    public static func hold(_ request: HoldRequest, facts: HoldFacts, at: Date) -> HoldDecision {
        guard facts.orderKnown else { return HoldDecision(.unknownOrder) }
        if let same = facts.holds.first(where: { $0.scope == request.scope }) {
            return HoldDecision(.alreadyHeld(same))
        }
        return HoldDecision(.held, changes: [
            .addHold(request, at: at),
            .holdCovered(note: HistoryEntry(at: at, actor: request.actor, action: .held,
                                            detail: "\(request.scope.description): \(request.reason)")),
        ])
    }

    public static func release(_ request: HoldRequest, facts: HoldFacts, at: Date) -> HoldDecision {
        let lifted = facts.holds.filter { request.scope.contains($0.scope) }
        // Broader holds (everything, while one kind is released) and holds
        // that overlap the scope keep what they cover held.
        let remaining = facts.holds.filter { !request.scope.contains($0.scope) && $0.scope.overlaps(request.scope) }
        guard !lifted.isEmpty else { return HoldDecision(.nothingHeld(stillHeldBy: remaining)) }
        return HoldDecision(.released(lifted: lifted, stillHeldBy: remaining), changes: [
            .removeHolds(ids: lifted.map(\.id)),
            .releaseUncovered(note: HistoryEntry(at: at, actor: request.actor, action: .released,
                                                 detail: "\(request.scope.description): \(request.reason)")),
        ])
    }

    /// The history line of deliveries a worker had claimed but not started
    /// when a hold began: it gives them back held.
    public static func claimGivenBack(at: Date) -> HistoryEntry {
        HistoryEntry(at: at, actor: SystemActor.flexpost, action: .held,
                     detail: "claimed before the hold began and not started: given back held")
    }

    /// Which of a worker's claimed, not yet started deliveries a hold in force
    /// covers: they are given back held instead of sent.
    public static func covered(_ deliveries: [Delivery], by holds: [Hold]) -> [Delivery] {
        deliveries.filter { delivery in holds.contains { $0.scope.covers(delivery) } }
    }
}

extension HoldScope {
    /// Whether some delivery could be covered by both scopes.
    public func overlaps(_ other: HoldScope) -> Bool {
        (kind == nil || other.kind == nil || kind == other.kind)
            && (orderId == nil || other.orderId == nil || orderId == other.orderId)
    }
}

extension HoldScope {
    /// The SQL for a new delivery's `state`: `held` when a hold in force
    /// covers it, else `scheduled` (the kind and order id as SQL expressions).
    public static func sqlArrivalState(kind: String, orderId: String) -> String {
        "CASE WHEN \(sqlCovered(kind: kind, orderId: orderId)) THEN \(DeliveryState.held.sqlLiteral) "
            + "ELSE \(DeliveryState.scheduled.sqlLiteral) END"
    }

    /// The SQL for a new delivery's `held_from`: the state a release gives it back.
    public static func sqlArrivalHeldFrom(kind: String, orderId: String) -> String {
        "CASE WHEN \(sqlCovered(kind: kind, orderId: orderId)) THEN \(DeliveryState.scheduled.sqlLiteral) END"
    }
}
