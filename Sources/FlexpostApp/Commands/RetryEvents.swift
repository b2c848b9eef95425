import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost retry-events [--dry-run] [--now T]`: SPEC §6's delivery events
/// that were given up after `FLEXPOST_RETRY_LIFETIME` (the order system away
/// for longer) are posted again, as Sidekiq retries its dead set: the same
/// `webhook-id`, no failed post counted, a new lifetime from now.
struct RetryEvents: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "retry-events",
        abstract: "Post the delivery events given up after FLEXPOST_RETRY_LIFETIME again, with a new lifetime.",
        discussion: """
            For after the order system was away for longer than the retry lifetime. Each event keeps \
            its webhook-id, so the order system can tell one it has already. They are posted by serve, \
            or by a drain, started with FLEXPOST_EVENTS_URL. Try --dry-run first.
            """)

    @Flag(help: "Print what would be posted again; change nothing.") var dryRun = false
    @Option(help: "Act as if the time were T: the new retry lifetime counts from T.") var now: Instant?

    /// At most this many events per run; a further run goes on from there.
    static let limit = 100_000

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let at = now?.date ?? SystemClock().now()
        let events = try await runtime.store.givenUpDeliveryEvents(limit: Self.limit)
        for event in events {
            print("\(dryRun ? "would post again" : "posting again") \(Self.line(event))")
        }
        let more = events.count == Self.limit ? " (at most \(Self.limit.formatted()) a run: run it again for the rest)" : ""
        if dryRun {
            print("retry-events: \(events.count) delivery events would be posted again\(more)")
            return
        }
        let retried = try await runtime.store.retryDeliveryEvents(events.map(\.record.webhookId), at: at)
        runtime.logger.info("delivery events given up are posted again", metadata: ["events.retried": "\(retried)"])
        print("retry-events: \(retried) delivery events to be posted again\(more)")
        if retried > 0, runtime.configuration.events == nil {
            print("retry-events: FLEXPOST_EVENTS_URL is not set here: serve or a drain started with it posts them")
        }
    }

    /// `msg_delivery_12_sent delivery.sent order ORD-1 delivery 12, ended 2026-…: 9 failed posts, the last: HTTP 503`
    static func line(_ event: GivenUpDeliveryEvent) -> String {
        let record = event.record, posts = event.attempts == 1 ? "post" : "posts"
        return "\(record.webhookId) \(record.type.rawValue) order \(event.orderId) delivery \(record.deliveryId), "
            + "ended \(RFC3339.format(record.at)): \(event.attempts) failed \(posts), the last: \(event.lastError ?? "none")"
    }
}
