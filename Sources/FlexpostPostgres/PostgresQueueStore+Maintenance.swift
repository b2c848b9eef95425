import FlexpostCore
import Foundation
import PostgresNIO

/// Migrations, the retention purge's candidates and re-encryption on PostgreSQL.
extension PostgresQueueStore {
    public func migrate() async throws -> [String] {
        try await PostgresSchema.migrate(client, logger: logger).map(String.init)
    }

    public func ordersHoldingPersonalData(receivedBefore: Date, after afterOrderId: String?, limit: Int) async throws
        -> [String]
    {
        var orderIds: [String] = []
        for try await orderId in try await client.query(
            """
            SELECT order_id FROM orders
            WHERE order_id > \(afterOrderId ?? "") AND personal_data_erased_at IS NULL
              AND received_at < \(receivedBefore.timeIntervalSince1970)
            ORDER BY order_id LIMIT \(limit)
            """, logger: logger
        ).decode(String.self) {
            orderIds.append(orderId)
        }
        return orderIds
    }

    public func ordersHoldingSecrets(after afterOrderId: String?, limit: Int) async throws -> [String] {
        var orderIds: [String] = []
        for try await orderId in try await client.query(
            """
            SELECT o.order_id FROM orders o
            WHERE o.order_id > \(afterOrderId ?? "") AND o.secrets_purged_at IS NULL
              AND EXISTS (SELECT 1 FROM secrets s WHERE s.order_id = o.order_id)
            ORDER BY o.order_id LIMIT \(limit)
            """, logger: logger
        ).decode(String.self) {
            orderIds.append(orderId)
        }
        return orderIds
    }

    public func fingerprintKey(orMake make: @escaping @Sendable () -> SealedSecret) async throws -> SealedSecret {
        if let stored = try await storedFingerprintKey() { return stored }
        let sealed = make()
        // Of processes starting together the first one's key is kept; each reads back the one stored.
        try await client.query(
            """
            INSERT INTO queue_keys (name, key_id, ciphertext)
            VALUES (\(FingerprintKey.purpose), \(sealed.keyId), \(Data(sealed.ciphertext))) ON CONFLICT (name) DO NOTHING
            """, logger: logger
        ).consume()
        guard let stored = try await storedFingerprintKey() else { throw QueueKeyLost() }
        return stored
    }

    func storedFingerprintKey() async throws -> SealedSecret? {
        for try await (keyId, ciphertext) in try await client.query(
            "SELECT key_id, ciphertext FROM queue_keys WHERE name = \(FingerprintKey.purpose)", logger: logger
        ).decode((String, Data).self) {
            return SealedSecret(purpose: FingerprintKey.purpose, keyId: keyId, ciphertext: Array(ciphertext))
        }
        return nil
    }

    public func sealingKeyIds() async throws -> Set<String> {
        var ids = Set<String>()
        for try await id in try await client.query(
            "SELECT DISTINCT key_id FROM secrets UNION SELECT key_id FROM queue_keys", logger: logger
        ).decode(String.self) {
            ids.insert(id)
        }
        return ids
    }

    public func rekey(newestKeyId: String, reseal: @escaping @Sendable (String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)
    {
        var rekeyed = 0, failed = 0
        let (keysDone, keysFailed) = try await transaction { connection -> (Int, Int) in
            var rows: [(String, String, Data)] = []
            for try await row in try await connection.query(
                "SELECT name, key_id, ciphertext FROM queue_keys WHERE key_id <> \(newestKeyId) FOR UPDATE",
                logger: self.logger
            ).decode((String, String, Data).self) {
                rows.append(row)
            }
            var done = 0, failed = 0
            for (name, keyId, ciphertext) in rows {
                guard let fresh = reseal(FingerprintKey.orderId, SealedSecret(purpose: name, keyId: keyId, ciphertext: Array(ciphertext))) else {
                    failed += 1
                    continue
                }
                try await connection.query(
                    "UPDATE queue_keys SET key_id = \(fresh.keyId), ciphertext = \(Data(fresh.ciphertext)) WHERE name = \(name)",
                    logger: self.logger
                ).consume()
                done += 1
            }
            return (done, failed)
        }
        rekeyed += keysDone
        failed += keysFailed
        var skipped: Set<String> = []
        while true {
            // A short transaction per batch; SKIP LOCKED lets several rekeys (or workers) run alongside.
            let (done, bad, seen) = try await transaction { connection -> (Int, [String], Int) in
                var rows: [(String, String, String, Data)] = []
                for try await row in try await connection.query(
                    """
                    SELECT order_id, purpose, key_id, ciphertext FROM secrets
                    WHERE key_id <> \(newestKeyId) AND NOT (order_id || '/' || purpose = ANY(\(Array(skipped))))
                    ORDER BY order_id, purpose LIMIT 200 FOR UPDATE SKIP LOCKED
                    """, logger: self.logger
                ).decode((String, String, String, Data).self) {
                    rows.append(row)
                }
                var done = 0
                var bad: [String] = []
                for (orderId, purpose, keyId, ciphertext) in rows {
                    guard let fresh = reseal(orderId, SealedSecret(purpose: purpose, keyId: keyId, ciphertext: Array(ciphertext))) else {
                        bad.append(orderId + "/" + purpose)
                        continue
                    }
                    try await connection.query(
                        """
                        UPDATE secrets SET key_id = \(fresh.keyId), ciphertext = \(Data(fresh.ciphertext))
                        WHERE order_id = \(orderId) AND purpose = \(purpose)
                        """, logger: self.logger
                    ).consume()
                    done += 1
                }
                return (done, bad, rows.count)
            }
            rekeyed += done
            failed += bad.count
            skipped.formUnion(bad)
            if seen == 0 { break }
        }
        return (rekeyed, failed)
    }
}

/// The fingerprint key was neither stored nor found (a concurrent delete): nothing a retry would not fix.
struct QueueKeyLost: Error, CustomStringConvertible {
    var description: String { "the queue's fingerprint key could not be stored" }
}
