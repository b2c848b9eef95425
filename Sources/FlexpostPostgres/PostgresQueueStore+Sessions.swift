import FlexpostCore
import Foundation
import PostgresNIO

/// The console's sessions on PostgreSQL (SPEC §7): every `serve` on the
/// database sees every session.
extension PostgresQueueStore {
    public func createSession(_ session: SupportSession) async throws {
        try await client.query(
            """
            INSERT INTO sessions (id_hash, subject, created_at, last_seen_at)
            VALUES (\(session.idHash), \(session.subject), \(session.createdAt.timeIntervalSince1970),
                \(session.lastSeenAt.timeIntervalSince1970))
            """, logger: logger
        ).consume()
    }

    public func session(idHash: String) async throws -> SupportSession? {
        for try await (subject, created, lastSeen) in try await client.query(
            "SELECT subject, created_at, last_seen_at FROM sessions WHERE id_hash = \(idHash)", logger: logger
        ).decode((String, Double, Double).self) {
            return SupportSession(idHash: idHash, subject: subject, createdAt: Date(timeIntervalSince1970: created),
                                  lastSeenAt: Date(timeIntervalSince1970: lastSeen))
        }
        return nil
    }

    public func touchSession(idHash: String, at: Date) async throws {
        try await client.query(
            """
            UPDATE sessions SET last_seen_at = GREATEST(last_seen_at, \(at.timeIntervalSince1970)) WHERE id_hash = \(idHash)
            """, logger: logger
        ).consume()
    }

    public func deleteSession(idHash: String) async throws {
        try await client.query("DELETE FROM sessions WHERE id_hash = \(idHash)", logger: logger).consume()
    }

    public func deleteSessions(lastSeenBefore: Date, createdBefore: Date) async throws -> Int {
        var deleted = 0
        for try await _ in try await client.query(
            """
            DELETE FROM sessions
            WHERE last_seen_at < \(lastSeenBefore.timeIntervalSince1970) OR created_at < \(createdBefore.timeIntervalSince1970)
            RETURNING id_hash
            """, logger: logger
        ) {
            deleted += 1
        }
        return deleted
    }
}
