import FlexpostCore
import Foundation
import Testing

/// R5, R7 and R8 decided from an order's facts alone, without a store.
@Suite struct OrderLifecycleTests {
    static let t0 = Date(timeIntervalSince1970: 1_796_000_000)

    static func delivery(_ id: Int64, _ kind: DeliveryKind, _ state: DeliveryState, to email: String = "a@x.example",
                         finishedAt: Date? = nil, resend: Bool = false) throws -> Delivery {
        Delivery(id: id, orderId: "O", kind: kind, recipient: Contact(name: "N \(email)", email: try EmailAddress(validating: email)),
                 language: .en, state: state, dueAt: t0, firstDueAt: t0, messageID: "<\(id)@x>", attempts: 0, createdAt: t0,
                 finishedAt: finishedAt, isResend: resend)
    }

    static func facts(_ deliveries: [Delivery], cancelledAt: Date? = nil, purgedAt: Date? = nil, holdsSecrets: Bool = true,
                      resends: [Date] = [], receivedAt: Date = t0, erasedAt: Date? = nil) -> OrderFacts {
        OrderFacts(orderId: "O", customerNumber: "C", cancelledAt: cancelledAt, secretsPurgedAt: purgedAt,
                   holdsSecrets: holdsSecrets, deliveries: deliveries, resendTimes: resends, receivedAt: receivedAt,
                   personalDataErasedAt: erasedAt)
    }

    @Test("R5: unsent deliveries are cancelled and the secrets destroyed; sent ones are left")
    func cancelUnsent() throws {
        let order = Self.facts([
            try Self.delivery(1, .adminNotice, .sent), try Self.delivery(2, .accessData, .scheduled),
            try Self.delivery(3, .accessData, .sending), try Self.delivery(4, .accessData, .retrying),
            try Self.delivery(5, .adminNotice, .dead),
        ])
        let at = Self.t0.addingTimeInterval(60), cancelledAt = Self.t0.addingTimeInterval(30)
        let decision = OrderLifecycle.cancel(order, at: at, cancelledAt: cancelledAt)
        #expect(decision.changes == [
            .finish(deliveryIds: [2, 3, 4], state: .cancelled, at: at),
            .destroySecrets(orderId: "O", at: at),
            .markCancelled(orderId: "O", at: cancelledAt),
            .note(orderId: "O", HistoryEntry(at: at, actor: "order-system", action: .cancelled,
                                             detail: "3 unsent deliveries cancelled, secrets destroyed")),
        ])
    }

    @Test("R5: a cancellation after everything was sent is recorded and changes nothing")
    func cancelAfterSending() throws {
        let decision = OrderLifecycle.cancel(Self.facts([try Self.delivery(1, .accessData, .sent)]), at: Self.t0, cancelledAt: Self.t0)
        #expect(decision.changes == [
            .note(orderId: "O", HistoryEntry(at: Self.t0, actor: "order-system", action: .cancellationRecorded,
                                             detail: "cancelled after sending: nothing changed (R5)")),
        ])
        // An order that sends nothing (R4) is still marked cancelled.
        let nothing = OrderLifecycle.cancel(Self.facts([], holdsSecrets: false), at: Self.t0, cancelledAt: Self.t0)
        #expect(nothing.changes.contains(.markCancelled(orderId: "O", at: Self.t0)))
    }

    @Test("R7: one new delivery per original recipient, due at once, with a new Message-ID; actor and reason recorded")
    func resendSchedules() throws {
        let order = Self.facts([
            try Self.delivery(1, .adminNotice, .sent, to: "one@x.example"),
            try Self.delivery(2, .adminNotice, .dead, to: "two@x.example"),
            try Self.delivery(3, .accessData, .sent, to: "contact@x.example"),
            try Self.delivery(4, .adminNotice, .sent, to: "one@x.example", resend: true),
            try Self.delivery(5, .adminNotice, .sent, to: "two@x.example"),
        ])
        var ids = 0
        let request = ResendRequest(orderId: "O", kind: .adminNotice, actor: "agent", reason: "lost")
        let decision = OrderLifecycle.resend(request, facts: order, at: Self.t0, limitPerDay: 5) {
            ids += 1
            return "<new\(ids)@x>"
        }
        #expect(decision.outcome == nil)
        guard case .schedule(let orderId, let planned, let at) = decision.changes.first else {
            Issue.record("nothing scheduled: \(decision.changes)")
            return
        }
        #expect(orderId == "O" && at == Self.t0)
        #expect(planned.map(\.planned.recipient.email.value) == ["one@x.example", "two@x.example"])
        #expect(planned.map(\.planned.messageID) == ["<new1@x>", "<new2@x>"])
        #expect(planned.allSatisfy { $0.isResend && $0.planned.dueAt == Self.t0 && $0.planned.kind == .adminNotice })
        #expect(decision.changes.last == .note(orderId: "O", HistoryEntry(
            at: Self.t0, actor: "agent", action: .resend, detail: "admin-notice by agent: lost")))
    }

    @Test("R7: refused for an unknown order, at the daily limit, for access data without secrets, or with nobody to send to")
    func resendRefused() throws {
        let request = ResendRequest(orderId: "O", kind: .accessData, actor: "agent", reason: "r")
        let deliveries = [try Self.delivery(1, .accessData, .sent)]
        func decide(_ facts: OrderFacts?, _ request: ResendRequest = request) -> Decision<ResendRefusal?> {
            OrderLifecycle.resend(request, facts: facts, at: Self.t0, limitPerDay: 2) { "<m@x>" }
        }
        #expect(decide(nil).outcome == .unknownOrder)
        #expect(decide(nil).changes.isEmpty)

        // Two in the last 24 hours reach the limit; one older than a day does not count.
        let recent = [Self.t0.addingTimeInterval(-86_399), Self.t0.addingTimeInterval(-10)]
        let limited = decide(Self.facts(deliveries, resends: recent))
        #expect(limited.outcome == .limitReached(2))
        #expect(limited.changes.count == 1)
        if case .note(_, let entry) = limited.changes.first {
            #expect(entry.action == .resendRefused && entry.detail.hasPrefix("limit of 2 resends per day reached"))
        }
        let older = decide(Self.facts(deliveries, resends: [Self.t0.addingTimeInterval(-86_400), Self.t0]))
        #expect(older.outcome == nil)

        #expect(decide(Self.facts(deliveries, purgedAt: Self.t0)).outcome == .secretsGone)
        #expect(decide(Self.facts(deliveries, cancelledAt: Self.t0)).outcome == .secretsGone)
        // Administrator notices carry no secrets: a purge does not stop them.
        let notice = ResendRequest(orderId: "O", kind: .adminNotice, actor: "a", reason: "r")
        #expect(decide(Self.facts([try Self.delivery(2, .adminNotice, .sent)], purgedAt: Self.t0), notice).outcome == nil)
        #expect(decide(Self.facts(deliveries), notice).outcome == .nothingToResend)
    }

    @Test("R7 with R1 and R5: access data still scheduled, and any mail of a cancelled order, are refused")
    func resendBeforeSendingOrAfterCancel() throws {
        let due = Self.t0.addingTimeInterval(3_600)
        var scheduled = try Self.delivery(1, .accessData, .scheduled)
        scheduled.dueAt = due
        let order = Self.facts([scheduled, try Self.delivery(2, .adminNotice, .sent)])
        func decide(_ kind: DeliveryKind, _ facts: OrderFacts) -> ResendRefusal? {
            OrderLifecycle.resend(ResendRequest(orderId: "O", kind: kind, actor: "a", reason: "r"), facts: facts, at: Self.t0,
                                  limitPerDay: 5) { "<m@x>" }.outcome
        }
        #expect(decide(.accessData, order) == .stillScheduled(due))
        #expect(decide(.adminNotice, order) == nil, "a notice can be resent while the access data waits")
        var retrying = try Self.delivery(1, .accessData, .retrying)
        retrying.dueAt = due
        #expect(decide(.accessData, Self.facts([retrying])) == nil, "past its due time, failing: a resend may go")

        let cancelled = Self.facts([try Self.delivery(2, .adminNotice, .sent)], cancelledAt: Self.t0)
        #expect(decide(.adminNotice, cancelled) == .orderCancelled)
        #expect(decide(.accessData, cancelled) == .secretsGone)
        #expect(ResendRefusal.stillScheduled(due).explanation.contains("still scheduled for " + RFC3339.format(due)))
    }

    @Test("R8: secrets expire the retention period after the access data ended, or after a cancellation")
    func retention() throws {
        let retention = SecretRetention(days: 30)
        let now = Self.t0.addingTimeInterval(31 * 86_400)
        let ended = Self.t0, recent = now.addingTimeInterval(-86_400)
        func expired(_ facts: OrderFacts) -> Bool { retention.expired(facts, at: now) }
        #expect(expired(Self.facts([try Self.delivery(1, .accessData, .sent, finishedAt: ended)])))
        #expect(expired(Self.facts([try Self.delivery(1, .accessData, .dead, finishedAt: ended),
                                    try Self.delivery(2, .accessData, .sent, finishedAt: ended.addingTimeInterval(60))])))
        // The last access-data delivery to end counts; a resend ended lately keeps the secrets.
        #expect(!expired(Self.facts([try Self.delivery(1, .accessData, .sent, finishedAt: ended),
                                     try Self.delivery(2, .accessData, .sent, finishedAt: recent, resend: true)])))
        // Access data still on its way, or none at all: kept.
        #expect(!expired(Self.facts([try Self.delivery(1, .accessData, .sent, finishedAt: ended),
                                     try Self.delivery(2, .accessData, .retrying)])))
        #expect(!expired(Self.facts([try Self.delivery(1, .adminNotice, .sent, finishedAt: ended)])))
        #expect(expired(Self.facts([], cancelledAt: ended)))
        #expect(!expired(Self.facts([], cancelledAt: recent)))
        #expect(!expired(Self.facts([try Self.delivery(1, .accessData, .sent, finishedAt: ended)], purgedAt: ended)))
        #expect(!expired(Self.facts([try Self.delivery(1, .accessData, .sent, finishedAt: ended)], holdsSecrets: false)))

        let purge = retention.purge([Self.facts([try Self.delivery(1, .accessData, .sent, finishedAt: ended)])], at: now)
        #expect(purge.outcome == 1)
        #expect(purge.changes.first == .destroySecrets(orderId: "O", at: now))
    }

    @Test("a claim given back unstarted: retrying if the delivery had been tried before, else scheduled")
    func releasedClaim() {
        #expect(DeliveryState.released(attempts: 1) == .scheduled)
        #expect(DeliveryState.released(attempts: 2) == .retrying)
        #expect(DeliveryState.released(attempts: 7) == .retrying)
    }

    @Test("a value the code does not know, read back from the store, is an error naming the column")
    func unknownStoredValue() {
        #expect(throws: UnknownStoredValue(column: "deliveries.state", value: "frozen")) {
            try DeliveryState(stored: "frozen", column: "deliveries.state")
        }
        #expect(throws: Never.self) { try HistoryAction(stored: "cancellation-recorded", column: "history.action") }
        #expect(DeliveryState.allCases.map(\.sqlLiteral).contains("'scheduled'"))
        #expect([DeliveryState.scheduled, .retrying].sqlList == "'scheduled', 'retrying'")
    }
}
