import FlexpostCore
import Foundation
import GRDB

/// The console's sessions on SQLite (SPEC §7).
extension SQLiteQueueStore {
    public func createSession(_ session: SupportSession) async throws {
        try await immediate { db in
            try db.run(sql: "INSERT INTO sessions (id_hash, subject, created_at, last_seen_at) VALUES (?, ?, ?, ?)",
                       arguments: [session.idHash, session.subject, session.createdAt.timeIntervalSince1970,
                                   session.lastSeenAt.timeIntervalSince1970])
        }
    }

    public func session(idHash: String) async throws -> SupportSession? {
        try await pool.read { db in
            try Row.fetchOne(db, sql: "SELECT subject, created_at, last_seen_at FROM sessions WHERE id_hash = ?",
                             arguments: [idHash]).map {
                SupportSession(idHash: idHash, subject: $0[0], createdAt: Date(timeIntervalSince1970: $0[1]),
                               lastSeenAt: Date(timeIntervalSince1970: $0[2]))
            }
        }
    }

    public func touchSession(idHash: String, at: Date) async throws {
        try await immediate { db in
            try db.run(sql: "UPDATE sessions SET last_seen_at = MAX(last_seen_at, ?) WHERE id_hash = ?",
                       arguments: [at.timeIntervalSince1970, idHash])
        }
    }

    public func deleteSession(idHash: String) async throws {
        try await immediate { db in try db.run(sql: "DELETE FROM sessions WHERE id_hash = ?", arguments: [idHash]) }
    }

    public func deleteSessions(lastSeenBefore: Date, createdBefore: Date) async throws -> Int {
        try await immediate { db in
            try db.run(sql: "DELETE FROM sessions WHERE last_seen_at < ? OR created_at < ?",
                       arguments: [lastSeenBefore.timeIntervalSince1970, createdBefore.timeIntervalSince1970])
            return db.changesCount
        }
    }
}
