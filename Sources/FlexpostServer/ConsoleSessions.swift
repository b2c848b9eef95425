import FlexpostCore
import Foundation
import Logging

/// A live console session: its id (the cookie's value), CSRF token, and
/// who signed in with which role.
struct ConsoleSession: Sendable {
    let id: Secret
    let csrf: String
    let subject: String
    let role: SupportRole
    /// The signed-in person (SPEC §7); nil when the support token signed in.
    let person: String?

    /// The session of the request being answered, for the pages it renders.
    @TaskLocal static var current: ConsoleSession?

    /// Whether a form's `csrf` field is this session's token.
    func accepts(_ token: String?) -> Bool {
        guard let token else { return false }
        return SupportRoutes.constantTimeEqual(token, csrf)
    }
}

/// The console's sessions (SPEC §7): random ids, kept server-side in the
/// queue store by their hash (so several `serve` share them), ending 30
/// minutes after the last use, 12 hours after sign-in, or at sign-out.
struct ConsoleSessions: Sendable {
    static let cookieName = "flexpost_support"
    let store: DeadlineStore
    let clock: any WallClock
    /// `Secure` on the cookie: the console is not served on loopback.
    let secure: Bool
    /// `FLEXPOST_SUPPORT_USERS`; nil: the support token signs in.
    let people: SupportUsers?
    var policy = SessionPolicy()

    /// The subject of a session the support token started.
    static let tokenSubject = "support token"

    /// Starts a session; returns its id, for the cookie.
    func begin(subject: String, logger: Logger) async throws -> Secret {
        let id = SupportSession.newId()
        let now = clock.now()
        let session = SupportSession(idHash: SupportSession.hash(id: id), subject: subject, createdAt: now, lastSeenAt: now)
        let store = self.store
        try await StoreUnavailable.guarding("a sign-in", logger: logger) { try await store.createSession(session) }
        return id
    }

    /// The live session the request's cookie names, recording its use; nil
    /// when there is none or it ended (an ended one is deleted).
    func resume(cookieHeader: String?, logger: Logger) async throws -> ConsoleSession? {
        guard let id = Self.sessionId(cookieHeader) else { return nil }
        let hash = SupportSession.hash(id: id), store = self.store, now = clock.now(), policy = self.policy
        return try await StoreUnavailable.guarding("a session check", logger: logger) {
            guard let session = try await store.session(idHash: hash) else { return nil }
            guard policy.isValid(session, at: now) else {
                try await store.deleteSession(idHash: hash)
                return nil
            }
            // The person's role as the users file says now; one taken off the file is signed out.
            let role: SupportRole, person: String?
            if let people {
                guard let listed = people.people[session.subject] else {
                    try await store.deleteSession(idHash: hash)
                    return nil
                }
                (role, person) = (listed.role, listed.name)
            } else {
                guard session.subject == Self.tokenSubject else { return nil }
                (role, person) = (.admin, nil)
            }
            if policy.needsTouch(session, at: now) { try await store.touchSession(idHash: hash, at: now) }
            return ConsoleSession(id: id, csrf: SupportSession.csrfToken(id: id), subject: session.subject, role: role,
                                  person: person)
        }
    }

    /// Sign-out: the session is deleted, its cookie is worth nothing from now on.
    func end(_ session: ConsoleSession, logger: Logger) async throws {
        let hash = SupportSession.hash(id: session.id), store = self.store
        try await StoreUnavailable.guarding("a sign-out", logger: logger) { try await store.deleteSession(idHash: hash) }
    }

    func cookie(_ id: Secret) -> String {
        "\(Self.cookieName)=\(id.exposedValue); Path=/support; HttpOnly; SameSite=Strict" + (secure ? "; Secure" : "")
    }

    var expiredCookie: String {
        "\(Self.cookieName)=; Path=/support; HttpOnly; SameSite=Strict; Max-Age=0" + (secure ? "; Secure" : "")
    }

    static func sessionId(_ header: String?) -> Secret? {
        guard let header else { return nil }
        for cookie in header.split(separator: ";") {
            let parts = cookie.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == cookieName, parts[1].count <= 128 { return Secret(String(parts[1])) }
        }
        return nil
    }
}
