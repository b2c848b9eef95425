/// How an event's intake ended, as every intake (CLI, HTTP) reports it.
public enum IntakeResult: Sendable, Equatable {
    case recorded(IntakeOutcome, type: EventType, key: String)
    /// `type` and `key` as far as they could be read from the refused event.
    case rejected(EventRejection, type: String?, key: String?)

    /// The `enqueue` result line (SPEC §4).
    public var line: String {
        switch self {
        case .recorded(let outcome, let type, let key):
            return "\(outcome.rawValue) \(type.rawValue) \(key)"
        case .rejected(let rejection, let type, let key):
            return "rejected \(type ?? "-") \(key ?? "-") \(rejection.field) \(rejection.rule)"
        }
    }

    public var isFailure: Bool {
        switch self {
        case .recorded(let outcome, _, _): outcome == .conflict
        case .rejected: true
        }
    }
}

/// The one intake path that every way in (webhook, file, stdin) goes through.
public protocol EventIntake: Sendable {
    /// Validates and durably records one event. Throws only when the store fails.
    func submit(_ body: [UInt8]) async throws -> IntakeResult
}
