import FlexpostCore
import Foundation
import PostgresNIO

/// Migrations, the retention purge's candidates and re-encryption on PostgreSQL.
extension PostgresQueueStore {
    public func migrate() async throws -> [String] {
        try await PostgresSchema.migrate(client, logger: logger).map(String.init)
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

    public func rekey(newestKeyId: String, reseal: @escaping @Sendable (String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)
    {
        var rekeyed = 0, failed = 0
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
