import FlexpostCore
import Foundation
import Testing

/// SPEC §7 console sessions, decided on an injected clock.
@Suite struct SessionPolicyTests {
    static let t0 = OrderLifecycleTests.t0

    @Test("a session ends 30 minutes after its last use or 12 hours after sign-in; a use is written back at most once a minute")
    func policy() {
        let policy = SessionPolicy()
        var session = SupportSession(idHash: "h", subject: "s", createdAt: Self.t0, lastSeenAt: Self.t0)
        #expect(policy.isValid(session, at: Self.t0.addingTimeInterval(29 * 60)))
        #expect(!policy.isValid(session, at: Self.t0.addingTimeInterval(30 * 60)))
        #expect(!policy.needsTouch(session, at: Self.t0.addingTimeInterval(59)))
        #expect(policy.needsTouch(session, at: Self.t0.addingTimeInterval(60)))
        // Used every 20 minutes, it still ends 12 hours after sign-in.
        session.lastSeenAt = Self.t0.addingTimeInterval(12 * 3_600 - 60)
        #expect(policy.isValid(session, at: Self.t0.addingTimeInterval(12 * 3_600 - 1)))
        #expect(!policy.isValid(session, at: Self.t0.addingTimeInterval(12 * 3_600)))
        let ended = policy.ended(at: Self.t0)
        #expect(ended.lastSeenBefore == Self.t0.addingTimeInterval(-1_800) && ended.createdBefore == Self.t0.addingTimeInterval(-43_200))
    }

    @Test("the store keeps a hash of the session id; the CSRF token is derived from the id, different for every session")
    func derived() {
        let a = Secret("session-a"), b = Secret("session-b")
        #expect(SupportSession.hash(id: a).count == 64 && SupportSession.hash(id: a) != SupportSession.hash(id: b))
        #expect(!SupportSession.hash(id: a).contains("session-a"))
        #expect(SupportSession.csrfToken(id: a) == SupportSession.csrfToken(id: a))
        #expect(SupportSession.csrfToken(id: a) != SupportSession.csrfToken(id: b))
    }
}
