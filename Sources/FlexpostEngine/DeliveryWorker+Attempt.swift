import FlexpostCore
import Foundation
import Logging
import Metrics

/// One attempt at one claimed delivery: compose, send, record (SPEC §5).
extension DeliveryWorker {
    /// One attempt at one claimed delivery. Returns the state it moved to, or
    /// nil when the claim had been taken over meanwhile.
    func deliver(_ delivery: Delivery, order stored: StoredOrder?, clock: any WallClock,
                 recorder: AttemptRecorder, permits: SendPermits) async throws -> DeliveryState? {
        let started = clock.now()

        let record: AttemptRecord
        switch prepareMessage(delivery, stored, date: started) {
        case .failure(let problem):
            record = AttemptRecord(startedAt: started, finishedAt: clock.now(), nextState: .dead, retryAt: nil,
                                   replyCode: nil, reply: "not sendable: \(problem)")
        case .success(let (bytes, envelope)):
            await permits.acquire()
            let sendStarted = ContinuousClock.now
            let outcome = await transport.send(bytes, envelope: envelope)
            permits.release()
            Timer(label: "flexpost_smtp_attempt_duration_seconds", dimensions: [("kind", delivery.kind.rawValue)])
                .record(duration: ContinuousClock.now - sendStarted)
            record = attemptRecord(outcome, delivery: delivery, started: started, finished: clock.now())
        }
        let held = try await recorder.record(CompletedAttempt(deliveryId: delivery.id, attempt: record))
        Counter(label: "flexpost_deliveries_total",
                dimensions: [("kind", delivery.kind.rawValue), ("result", record.nextState.rawValue)]).increment()
        var metadata: Logger.Metadata = [
            "delivery.id": "\(delivery.id)", "delivery.kind": "\(delivery.kind.rawValue)", "order.id": "\(delivery.orderId)",
            "smtp.code": "\(record.replyCode.map(String.init) ?? "-")", "smtp.reply": "\(record.reply)",
        ]
        switch record.nextState {
        case .sent: logger.info("delivery sent", metadata: metadata)
        case .retrying:
            metadata["retry.at"] = "\(record.retryAt.map(RFC3339.format) ?? "-")"
            logger.warning("delivery failed, will retry", metadata: metadata)
        default: logger.error("delivery failed for good", metadata: metadata)
        }
        return held ? record.nextState : nil
    }

    /// Records an attempt's result, retrying through a short database outage
    /// (up to a third of the lease): giving up would let the lease expire and
    /// the mail, already handed to the relay, be sent a second time.
    func recordWithRetry<T>(_ body: () async throws -> T) async throws -> T {
        // A timed-out record is retried too: the store may be back a moment later.
        let deadline = ContinuousClock.now + .seconds(leaseSeconds / 3)
        var delay = Duration.milliseconds(100)
        while true {
            do {
                return try await body()
            } catch is CancellationError {
                throw CancellationError()
            } catch {
                guard ContinuousClock.now + delay < deadline else { throw error }
                logger.warning("recording a delivery result failed, retrying", metadata: ["error": "\(error)"])
                try await Task.sleep(for: delay)
                delay = min(delay * 2, .seconds(2))
            }
        }
    }

    struct Problem: Error, CustomStringConvertible {
        let description: String
    }

    func prepareMessage(_ delivery: Delivery, _ stored: StoredOrder?, date: Date) -> Result<([UInt8], Envelope), Problem> {
        guard let stored else { return .failure(Problem(description: "order \(delivery.orderId) is not stored")) }
        guard var order = stored.order else {
            return .failure(Problem(description: "the order's personal data was erased"))
        }
        if delivery.kind == .accessData {
            do {
                order.secrets = try sealer.open(stored.sealedSecrets, orderId: order.orderId)
            } catch {
                return .failure(Problem(description: error.description))
            }
            let missing = order.siteProducts.filter { order.secrets.accessPasswords[$0.siteProductId] == nil }
            if !missing.isEmpty {
                return .failure(Problem(description: "access passwords are no longer stored (purged or cancelled)"))
            }
        }
        let content = DeliveryContent.make(delivery.kind, order: order, portalActive: stored.portalActive,
                                           recipient: delivery.recipient)
        do {
            let message = try composer.compose(
                content, to: delivery.recipient, language: delivery.language, messageID: delivery.messageID, date: date)
            let bytes = try message.render()
            let sender = returnPath?.address(for: delivery.id) ?? composer.sender.email
            return .success((bytes, Envelope(sender: sender, recipients: [delivery.recipient.email])))
        } catch let error as MailComposer.CompositionError {
            return .failure(Problem(description: error.description))
        } catch {
            return .failure(Problem(description: "\(error)"))
        }
    }

    func attemptRecord(_ outcome: TransportOutcome, delivery: Delivery, started: Date, finished: Date) -> AttemptRecord {
        switch outcome {
        case .accepted(let code, let reply):
            return AttemptRecord(startedAt: started, finishedAt: finished, nextState: .sent, retryAt: nil,
                                 replyCode: code, reply: reply)
        case .permanentFailure(let code, let reply):
            return AttemptRecord(startedAt: started, finishedAt: finished, nextState: .dead, retryAt: nil,
                                 replyCode: code, reply: reply)
        case .transientFailure(let code, let reply):
            let next = retryPolicy.nextAttempt(
                after: delivery.attempts, now: finished, firstDue: delivery.firstDueAt, random: Double.random(in: 0..<1))
            return AttemptRecord(
                startedAt: started, finishedAt: finished, nextState: next == nil ? .dead : .retrying, retryAt: next,
                replyCode: code, reply: next == nil ? "retry lifetime exceeded; last: \(reply)" : reply)
        }
    }
}
