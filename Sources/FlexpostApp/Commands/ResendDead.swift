import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost resend-dead --since T --reason ... --actor ...`: after an
/// incident that killed deliveries (a relay that refused every message with
/// 5xx, a broken template), resends each affected order's mail of that kind
/// once, by R7 — as Sidekiq's "retry all" on its dead set or Postfix's
/// requeue, but through the resend path, so that every resend is recorded
/// with actor and reason, gets a new Message-ID and decides R2 again.
struct ResendDead: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "resend-dead",
        abstract: "Resend (R7) every order's mail that went dead between --since and --until.",
        discussion: """
            Each order and kind is resent once, to every recipient it had; one that was resent \
            already (a later delivery sent or on its way) or whose order was cancelled is skipped, \
            so running it again is safe. Try --dry-run first. Exit status 1 when a resend was \
            refused (access data whose secrets were purged, the resend limit).
            """)

    @Option(help: "Deliveries that went dead from T on (RFC 3339).") var since: Instant
    @Option(help: "… up to T (RFC 3339; default: now).") var until: Instant?
    @Option(help: "Only this mail (default: both).") var kind: DeliveryKind?
    @OptionGroup var record: ActionRecord
    @Flag(help: "Print what would be resent; change nothing.") var dryRun = false

    /// At most this many dead deliveries per run; a further run goes on from there.
    static let limit = 100_000

    func validate() throws {
        if let until, until.date < since.date { throw ValidationError("--until must not be before --since") }
    }

    func run() async throws {
        let runtime = try await startRuntime()
        let store = runtime.store, planner = runtime.planner
        let now = SystemClock().now()
        let from = since.date, to = until?.date ?? now
        let dead = try await store.deadDeliveries(endedFrom: from, to: to, limit: Self.limit, newestFirst: false)
        var orders: [String: DeadLetterResend.Order] = [:]
        // The orders' flags in one read (the batch read the delivery passes use).
        for (orderId, stored) in try await store.storedOrders(Set(dead.map(\.orderId))) {
            orders[orderId] = DeadLetterResend.Order(
                deliveries: try await store.deliveries(orderId: orderId),
                cancelled: stored.cancelled, secretsPurged: stored.secretsPurged)
        }
        let items = DeadLetterResend.plan(dead: dead, kind: kind, orders: orders)
        var resent = 0, skipped = 0, refused = 0
        for item in items {
            let what = "\(item.orderId) \(item.kind.rawValue)"
            let last = "last reply: " + (item.dead.last?.lastReply ?? item.dead.last?.lastCode.map(String.init) ?? "none")
            switch item.verdict {
            case .resentAlready(let later):
                skipped += 1
                print("skipped \(what): resent already (delivery \(later.id) \(later.state.rawValue))")
                continue
            case .cancelled:
                skipped += 1
                print("skipped \(what): the order was cancelled")
                continue
            case .secretsGone:
                refused += 1
                print("refused \(what): its secrets were purged (retention); the customer needs new access data")
                continue
            case .resend:
                break
            }
            if dryRun {
                resent += 1
                print("would resend \(what): \(item.dead.count) dead, \(last)")
                continue
            }
            let outcome = try await store.resend(
                ResendRequest(orderId: item.orderId, kind: item.kind, actor: record.actor, reason: record.reason),
                at: now, limitPerDay: runtime.configuration.resendLimit, messageID: { planner.newMessageID() })
            switch outcome {
            case .scheduled(let deliveries):
                resent += 1
                print("scheduled \(what): \(deliveries.count) deliveries (\(item.dead.count) dead, \(last))")
            case .refused(let refusal):
                refused += 1
                print("refused \(what): \(refusal.explanation)")
            }
        }
        let window = "\(dead.count) dead deliveries ended \(RFC3339.format(from)) to \(RFC3339.format(to))"
        print(dryRun
            ? "resend-dead (dry run): \(resent) would be resent, \(skipped) skipped, \(refused) refused; \(window)"
            : "resend-dead: \(resent) resent, \(skipped) skipped, \(refused) refused; \(window)")
        if dead.count == Self.limit {
            FlexpostMain.printError("flexpost: more than \(Self.limit) dead deliveries in the window: run it again for the rest")
        }
        if refused > 0 { throw CommandExit(code: 1) }
    }
}
