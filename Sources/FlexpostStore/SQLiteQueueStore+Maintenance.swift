import FlexpostCore
import Foundation
import GRDB

/// Migrations, the retention purge's candidates and re-encryption on SQLite.
extension SQLiteQueueStore {
    public func migrate() async throws -> [String] {
        let migrator = SQLiteSchema.migrator
        let before = try await pool.read { db in try migrator.appliedIdentifiers(db) }
        // On GRDB's writer queue, off the cooperative pool.
        try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
            migrator.asyncMigrate(pool) { result in done.resume(with: result.map { _ in () }) }
        }
        let after = try await pool.read { db in try migrator.appliedIdentifiers(db) }
        return after.subtracting(before).sorted()
    }

    public func ordersHoldingPersonalData(receivedBefore: Date, after afterOrderId: String?, limit: Int) async throws
        -> [String]
    {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT order_id FROM orders
                    WHERE order_id > ? AND personal_data_erased_at IS NULL AND received_at < ?
                    ORDER BY order_id LIMIT ?
                    """,
                arguments: [afterOrderId ?? "", receivedBefore.timeIntervalSince1970, limit])
        }
    }

    public func ordersHoldingSecrets(after afterOrderId: String?, limit: Int) async throws -> [String] {
        try await pool.read { db in
            try String.fetchAll(
                db,
                sql: """
                    SELECT o.order_id FROM orders o
                    WHERE o.order_id > ? AND o.secrets_purged_at IS NULL
                      AND EXISTS (SELECT 1 FROM secrets s WHERE s.order_id = o.order_id)
                    ORDER BY o.order_id LIMIT ?
                    """,
                arguments: [afterOrderId ?? "", limit])
        }
    }

    public func fingerprintKey(orMake make: @escaping @Sendable () -> SealedSecret) async throws -> SealedSecret {
        let read = { @Sendable (db: Database) throws -> SealedSecret? in
            try Row.fetchOne(db, sql: "SELECT key_id, ciphertext FROM queue_keys WHERE name = ?",
                             arguments: [FingerprintKey.purpose]).map {
                SealedSecret(purpose: FingerprintKey.purpose, keyId: $0[0], ciphertext: Array($0[1] as Data))
            }
        }
        if let stored = try await pool.read(read) { return stored }
        return try await immediate { db in
            if let stored = try read(db) { return stored }
            let sealed = make()
            try db.execute(sql: "INSERT INTO queue_keys (name, key_id, ciphertext) VALUES (?, ?, ?)",
                           arguments: [FingerprintKey.purpose, sealed.keyId, Data(sealed.ciphertext)])
            return sealed
        }
    }

    public func sealingKeyIds() async throws -> Set<String> {
        try await pool.read { db in
            Set(try String.fetchAll(db, sql: "SELECT DISTINCT key_id FROM secrets UNION SELECT key_id FROM queue_keys"))
        }
    }

    public func rekey(newestKeyId: String, reseal: @escaping @Sendable (String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)
    {
        let (keysDone, keysFailed) = try await immediate { db -> (Int, Int) in
            var done = 0, failed = 0
            for row in try Row.fetchAll(db, sql: "SELECT name, key_id, ciphertext FROM queue_keys WHERE key_id <> ?",
                                        arguments: [newestKeyId]) {
                let sealed = SealedSecret(purpose: row[0], keyId: row[1], ciphertext: Array(row[2] as Data))
                guard let fresh = reseal(FingerprintKey.orderId, sealed) else {
                    failed += 1
                    continue
                }
                try db.execute(sql: "UPDATE queue_keys SET key_id = ?, ciphertext = ? WHERE name = ?",
                               arguments: [fresh.keyId, Data(fresh.ciphertext), sealed.purpose])
                done += 1
            }
            return (done, failed)
        }
        let pending = try await pool.read { db in
            try Row.fetchAll(db, sql: "SELECT order_id, purpose FROM secrets WHERE key_id <> ? ORDER BY order_id, purpose",
                             arguments: [newestKeyId]).map { ($0["order_id"] as String, $0["purpose"] as String) }
        }
        var rekeyed = 0, failed = 0
        for start in stride(from: 0, to: pending.count, by: 200) {
            let chunk = Array(pending[start..<min(start + 200, pending.count)])
            let (done, bad) = try await immediate { db -> (Int, Int) in
                var done = 0, bad = 0
                for (orderId, purpose) in chunk {
                    guard let row = try Row.fetchOne(
                        db, sql: "SELECT key_id, ciphertext FROM secrets WHERE order_id = ? AND purpose = ? AND key_id <> ?",
                        arguments: [orderId, purpose, newestKeyId])
                    else { continue }  // purged or rekeyed meanwhile
                    let sealed = SealedSecret(purpose: purpose, keyId: row["key_id"], ciphertext: Array(row["ciphertext"] as Data))
                    guard let fresh = reseal(orderId, sealed) else {
                        bad += 1
                        continue
                    }
                    try db.execute(
                        sql: "UPDATE secrets SET key_id = ?, ciphertext = ? WHERE order_id = ? AND purpose = ?",
                        arguments: [fresh.keyId, Data(fresh.ciphertext), orderId, purpose])
                    done += 1
                }
                return (done, bad)
            }
            rekeyed += done
            failed += bad
        }
        return (rekeyed + keysDone, failed + keysFailed)
    }
}
