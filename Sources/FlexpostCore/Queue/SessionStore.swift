import Foundation

/// The console's sessions (SPEC §7), kept in the queue store so that several
/// `serve` behind a load balancer share them.
public protocol SessionStore: Sendable {
    func createSession(_ session: SupportSession) async throws
    func session(idHash: String) async throws -> SupportSession?
    /// Records a use of the session.
    func touchSession(idHash: String, at: Date) async throws
    /// Sign-out.
    func deleteSession(idHash: String) async throws
    /// Deletes sessions that ended (``SessionPolicy/ended(at:)``); returns how many.
    func deleteSessions(lastSeenBefore: Date, createdBefore: Date) async throws -> Int
}
