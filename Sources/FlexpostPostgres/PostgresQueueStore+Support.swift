import FlexpostCore
import Foundation
import PostgresNIO

extension PostgresQueueStore {
    public func resend(_ request: ResendRequest, at: Date, limitPerDay: Int,
                       messageID: @escaping @Sendable () -> String) async throws -> ResendOutcome {
        try await transaction { connection in
            let orderId = request.orderId
            var order: (Double?, Double?)?
            // The row lock serialises concurrent resends of one order (the limit holds across workers).
            for try await row in try await connection.query(
                "SELECT cancelled_at, secrets_purged_at FROM orders WHERE order_id = \(orderId) FOR UPDATE", logger: self.logger
            ).decode((Double?, Double?).self) {
                order = row
            }
            guard let order else { return .unknownOrder }
            var recent = 0
            for try await n in try await connection.query(
                """
                SELECT COUNT(*) FROM history WHERE order_id = \(orderId) AND action = 'resend' AND at > \(at.timeIntervalSince1970 - 86_400)
                """, logger: self.logger
            ).decode(Int64.self) {
                recent = Int(n)
            }
            let detail = "\(request.kind.rawValue) by \(request.actor): \(request.reason)"
            if recent >= limitPerDay {
                try await self.addHistory(connection, orderId: orderId, at: at, actor: request.actor, action: "resend-refused",
                                          detail: "limit of \(limitPerDay) resends per day reached; \(detail)")
                return .limitReached(limitPerDay)
            }
            if request.kind == .accessData && (order.0 != nil || order.1 != nil) {
                try await self.addHistory(connection, orderId: orderId, at: at, actor: request.actor, action: "resend-refused",
                                          detail: "secrets purged or order cancelled; \(detail)")
                return .secretsGone
            }
            var recipients: [(String, String, String)] = []
            for try await row in try await connection.query(
                """
                SELECT recipient_name, recipient_email, language FROM deliveries
                WHERE order_id = \(orderId) AND kind = \(request.kind.rawValue) AND resend_of_kind IS NULL
                GROUP BY recipient_email, recipient_name, language ORDER BY MIN(id)
                """, logger: self.logger
            ).decode((String, String, String).self) {
                recipients.append(row)
            }
            if recipients.isEmpty { return .nothingToResend }
            var created: [Delivery] = []
            for (name, email, language) in recipients {
                created += try await self.deliveries(try await connection.query(
                    """
                    INSERT INTO deliveries (order_id, kind, recipient_name, recipient_email, language, state,
                        due_at, first_due_at, message_id, created_at, resend_of_kind)
                    VALUES (\(orderId), \(request.kind.rawValue), \(name), \(email), \(language), 'scheduled',
                        \(at.timeIntervalSince1970), \(at.timeIntervalSince1970), \(messageID()), \(at.timeIntervalSince1970),
                        \(request.kind.rawValue))
                    RETURNING \(unescaped: Self.deliveryColumns)
                    """, logger: self.logger))
            }
            try await self.addHistory(connection, orderId: orderId, at: at, actor: request.actor, action: "resend", detail: detail)
            return .scheduled(created)
        }
    }

    public func purgeSecrets(finishedBefore cutoff: Date, at: Date) async throws -> Int {
        try await transaction { connection in
            let c = cutoff.timeIntervalSince1970
            var orderIds: [String] = []
            for try await id in try await connection.query(
                """
                SELECT o.order_id FROM orders o
                WHERE o.secrets_purged_at IS NULL
                  AND EXISTS (SELECT 1 FROM secrets s WHERE s.order_id = o.order_id)
                  AND ((o.cancelled_at IS NOT NULL AND o.cancelled_at < \(c))
                    OR (NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = o.order_id AND d.kind = 'access-data'
                                    AND d.state NOT IN ('sent', 'dead', 'cancelled'))
                        AND (SELECT MAX(d.finished_at) FROM deliveries d
                             WHERE d.order_id = o.order_id AND d.kind = 'access-data') < \(c)))
                FOR UPDATE OF o SKIP LOCKED
                """, logger: self.logger
            ).decode(String.self) {
                orderIds.append(id)
            }
            for orderId in orderIds {
                try await connection.query("DELETE FROM secrets WHERE order_id = \(orderId)", logger: self.logger).consume()
                try await connection.query(
                    "UPDATE orders SET secrets_purged_at = \(at.timeIntervalSince1970) WHERE order_id = \(orderId)",
                    logger: self.logger
                ).consume()
                try await self.addHistory(connection, orderId: orderId, at: at, actor: "flexpost", action: "purged",
                                          detail: "secrets destroyed after the retention period (R8)")
            }
            return orderIds.count
        }
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
