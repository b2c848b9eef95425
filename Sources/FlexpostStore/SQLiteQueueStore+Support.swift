import FlexpostCore
import Foundation
import GRDB

extension SQLiteQueueStore {
    public func resend(_ request: ResendRequest, at: Date, limitPerDay: Int,
                       messageID: @escaping @Sendable () -> String) async throws -> ResendOutcome {
        try await immediate { db in
            let orderId = request.orderId
            guard let order = try Row.fetchOne(
                db, sql: "SELECT cancelled_at, secrets_purged_at FROM orders WHERE order_id = ?", arguments: [orderId])
            else { return .unknownOrder }
            let recent = try Int.fetchOne(
                db, sql: "SELECT COUNT(*) FROM history WHERE order_id = ? AND action = 'resend' AND at > ?",
                arguments: [orderId, at.timeIntervalSince1970 - 86_400]) ?? 0
            let detail = "\(request.kind.rawValue) by \(request.actor): \(request.reason)"
            if recent >= limitPerDay {
                try Self.addHistory(db, orderId: orderId, at: at, actor: request.actor, action: "resend-refused",
                                    detail: "limit of \(limitPerDay) resends per day reached; \(detail)")
                return .limitReached(limitPerDay)
            }
            if request.kind == .accessData
                && ((order["secrets_purged_at"] as Double?) != nil || (order["cancelled_at"] as Double?) != nil)
            {
                try Self.addHistory(db, orderId: orderId, at: at, actor: request.actor, action: "resend-refused",
                                    detail: "secrets purged or order cancelled; \(detail)")
                return .secretsGone
            }
            // The same recipients as the original deliveries: no address override.
            let recipients = try Row.fetchAll(
                db,
                sql: """
                    SELECT recipient_name, recipient_email, language, MIN(id) AS first FROM deliveries
                    WHERE order_id = ? AND kind = ? AND resend_of_kind IS NULL
                    GROUP BY recipient_email ORDER BY first
                    """,
                arguments: [orderId, request.kind.rawValue])
            if recipients.isEmpty { return .nothingToResend }
            var ids: [Int64] = []
            for recipient in recipients {
                try db.execute(
                    sql: """
                        INSERT INTO deliveries (order_id, kind, recipient_name, recipient_email, language, state,
                            due_at, first_due_at, message_id, created_at, resend_of_kind)
                        VALUES (?, ?, ?, ?, ?, 'scheduled', ?, ?, ?, ?, ?)
                        """,
                    arguments: [orderId, request.kind.rawValue, recipient["recipient_name"], recipient["recipient_email"],
                                recipient["language"], at.timeIntervalSince1970, at.timeIntervalSince1970, messageID(),
                                at.timeIntervalSince1970, request.kind.rawValue])
                ids.append(db.lastInsertedRowID)
            }
            try Self.addHistory(db, orderId: orderId, at: at, actor: request.actor, action: "resend", detail: detail)
            let placeholders = ids.map { _ in "?" }.joined(separator: ",")
            return .scheduled(try Row.fetchAll(
                db, sql: "SELECT \(Self.deliveryColumns) FROM deliveries WHERE id IN (\(placeholders)) ORDER BY id",
                arguments: StatementArguments(ids)
            ).map(Self.delivery))
        }
    }

    public func purgeSecrets(finishedBefore cutoff: Date, at: Date) async throws -> Int {
        try await immediate { db in
            // Orders with secrets whose access-data deliveries are all final, the
            // last of them before the cutoff; or cancelled before it.
            let orderIds = try String.fetchAll(
                db,
                sql: """
                    SELECT o.order_id FROM orders o
                    WHERE o.secrets_purged_at IS NULL
                      AND EXISTS (SELECT 1 FROM secrets s WHERE s.order_id = o.order_id)
                      AND (
                        (o.cancelled_at IS NOT NULL AND o.cancelled_at < ?)
                        OR (
                          NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.order_id = o.order_id AND d.kind = 'access-data'
                                      AND d.state NOT IN ('sent', 'dead', 'cancelled'))
                          AND (SELECT MAX(d.finished_at) FROM deliveries d
                               WHERE d.order_id = o.order_id AND d.kind = 'access-data') < ?
                        )
                      )
                    """,
                arguments: [cutoff.timeIntervalSince1970, cutoff.timeIntervalSince1970])
            for orderId in orderIds {
                try db.execute(sql: "DELETE FROM secrets WHERE order_id = ?", arguments: [orderId])
                try db.execute(sql: "UPDATE orders SET secrets_purged_at = ? WHERE order_id = ?",
                               arguments: [at.timeIntervalSince1970, orderId])
                try Self.addHistory(db, orderId: orderId, at: at, actor: "flexpost", action: "purged",
                                    detail: "secrets destroyed after the retention period (R8)")
            }
            return orderIds.count
        }
    }

    public func rekey(newestKeyId: String, reseal: @escaping @Sendable (String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)
    {
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
        return (rekeyed, failed)
    }
}
