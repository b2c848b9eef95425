import Crypto
import Foundation

/// A signed-in console session (SPEC §7), as the queue store keeps it: the
/// store holds only a hash of the session id (the cookie's value), so that a
/// copy of the database signs nobody in.
public struct SupportSession: Sendable, Equatable {
    /// Hex SHA-256 of the session id.
    public var idHash: String
    /// Who signed in (the support token's holder until people and roles exist).
    public var subject: String
    public var createdAt: Date
    public var lastSeenAt: Date

    public init(idHash: String, subject: String, createdAt: Date, lastSeenAt: Date) {
        self.idHash = idHash
        self.subject = subject
        self.createdAt = createdAt
        self.lastSeenAt = lastSeenAt
    }

    /// The hash a store keeps for a session id.
    public static func hash(id: Secret) -> String {
        SHA256.hash(data: Data(id.exposedValue.utf8)).lowercaseHex
    }

    /// The session's CSRF token, derived from its id (a keyed MAC): every form
    /// carries it, only the holder of the cookie can know it, and nothing
    /// more is stored.
    public static func csrfToken(id: Secret) -> String {
        let mac = HMAC<SHA256>.authenticationCode(for: Data("flexpost console csrf v1".utf8),
                                                  using: SymmetricKey(data: Data(id.exposedValue.utf8)))
        return base64URL(Data(mac))
    }

    /// A new session id: 256 random bits (as `EncryptionKeyRing` makes keys), URL-safe for a cookie.
    public static func newId() -> Secret {
        Secret(SymmetricKey(size: .bits256).withUnsafeBytes { base64URL(Data($0)) })
    }

    /// Base64 with `-` and `_`, unpadded: safe in a cookie and a form field.
    static func base64URL(_ data: Data) -> String {
        data.base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
    }
}

/// SPEC §7: a session ends 30 minutes after its last use or 12 hours after
/// sign-in, whichever comes first, and at sign-out.
public struct SessionPolicy: Sendable, Equatable {
    public var idle: TimeInterval
    public var absolute: TimeInterval
    /// A use is written back at most this often (not one write per page).
    public var touchEvery: TimeInterval

    public init(idle: TimeInterval = 30 * 60, absolute: TimeInterval = 12 * 3_600, touchEvery: TimeInterval = 60) {
        self.idle = idle
        self.absolute = absolute
        self.touchEvery = touchEvery
    }

    public func isValid(_ session: SupportSession, at now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) < idle && now.timeIntervalSince(session.createdAt) < absolute
    }

    /// Whether this use should be recorded as the session's last.
    public func needsTouch(_ session: SupportSession, at now: Date) -> Bool {
        now.timeIntervalSince(session.lastSeenAt) >= touchEvery
    }

    /// Sessions last used or created before these times have ended and may be deleted.
    public func ended(at now: Date) -> (lastSeenBefore: Date, createdBefore: Date) {
        (now.addingTimeInterval(-idle), now.addingTimeInterval(-absolute))
    }
}
