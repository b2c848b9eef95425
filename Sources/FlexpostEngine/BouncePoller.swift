import FlexpostCore
import Foundation
import Logging
import Metrics
import ServiceLifecycle

/// SPEC §6 under `serve`: polls the bounce mailbox (`FLEXPOST_BOUNCE_MAILBOX`)
/// every `FLEXPOST_BOUNCE_POLL`. Each message is fetched, taken in
/// (``BounceIntake``), and deleted only after its result is committed: a
/// crash in between takes it again, and the same bounce is recorded once.
/// A message the store cannot take now stays for the next poll; a mailbox
/// that cannot be reached is tried again with backoff, up to the poll
/// interval. Polls and failures are logged and counted
/// (`flexpost_bounce_polls_total{result}`).
public struct BouncePoller: Service {
    let mailbox: any BounceMailbox
    let intake: BounceIntake
    let interval: Duration
    let logger: Logger

    public init(mailbox: any BounceMailbox, intake: BounceIntake, interval: Duration, logger: Logger) {
        self.mailbox = mailbox
        self.intake = intake
        self.interval = interval
        self.logger = logger
    }

    /// What one poll did.
    public struct Polled: Sendable, Equatable {
        public var taken = 0
        /// Left in the mailbox because the store could not take them now.
        public var left = 0
    }

    public func run() async throws {
        // Backoff after failures, never longer than the poll interval.
        await Periodic(interval: interval, backoff: (.seconds(1), min(.seconds(300), interval))).run({
            let polled = try await poll()
            Counter(label: "flexpost_bounce_polls_total", dimensions: [("result", "ok")]).increment()
            if polled != Polled() {
                logger.info("bounce mailbox polled", metadata: ["bounces.taken": "\(polled.taken)", "bounces.left": "\(polled.left)"])
            }
            return nil
        }, failed: { error, failures, wait in
            Counter(label: "flexpost_bounce_polls_total", dimensions: [("result", "failed")]).increment()
            logger.error("bounce mailbox poll failed", metadata: [
                "error": "\(error)", "poll.failures": "\(failures)", "retry.in": "\(Backoff.text(wait))",
            ])
        }, recovered: { failures in
            logger.notice("bounce mailbox reachable again", metadata: ["poll.failures": "\(failures)"])
        })
    }

    /// One poll: every message in the mailbox, oldest first.
    public func poll() async throws -> Polled {
        var polled = Polled()
        for uid in try await mailbox.messageUIDs() {
            if Task.isShuttingDownGracefully { break }
            let bytes = try await mailbox.fetch(uid: uid)
            do {
                let taken = try await intake.take(bytes)
                logger.debug("bounce from the mailbox", metadata: [
                    "imap.uid": "\(uid)", "bounce.outcome": "\(taken.outcome)", "delivery.id": "\(taken.deliveryId.map { "\($0)" } ?? "-")",
                ])
            } catch {
                // Not committed: the message, and those after it, stay for the next poll.
                polled.left += 1
                logger.warning("bounce not taken, left in the mailbox", metadata: ["imap.uid": "\(uid)", "error": "\(error)"])
                break
            }
            try await mailbox.delete(uid: uid)
            polled.taken += 1
        }
        return polled
    }
}
