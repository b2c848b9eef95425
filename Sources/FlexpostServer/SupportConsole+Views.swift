import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension SupportConsole {
    /// How far back the home page looks for mail that could not be delivered, and how much it lists.
    static let deadDays = 7, deadShown = 50

    /// The look-up form, and the mail of the last week that went dead (its
    /// recipients need a call or a resend): newest first, linked to its order.
    func home(notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok,
              logger: Logger) async throws -> Response {
        let (shown, more) = try await support.recentDead(days: Self.deadDays, showing: Self.deadShown, logger: logger)
        let store = support.store, now = support.clock.now()
        let (holds, counts, bounced) = try await StoreUnavailable.guarding("a read of the holds", logger: logger) {
            (try await store.holds(), try await store.countsByState(),
             try await store.bouncedDeliveries(endedFrom: now.addingTimeInterval(-86_400 * Double(Self.deadDays)), to: now,
                                               limit: Self.deadShown))
        }
        let rows: [[String: Any]] = shown.map { delivery in
            [
                "orderId": delivery.orderId, "orderQuery": Self.percentEncoded(delivery.orderId),
                "kind": delivery.kind.rawValue,
                "recipient": delivery.recipient.email.value, "due": time.format(delivery.dueAt),
                "reply": delivery.lastReply ?? "", "attempts": delivery.attempts,
            ]
        }
        let text = ConsoleText.current
        var view: [String: Any] = ["signedIn": true, "lists": true]
        if !rows.isEmpty {
            view["dead"] = rows
            view["hasDead"] = true
            view["deadSummary"] = text.deadSummary(count: more ? text.moreThan(shown.count) : "\(shown.count)", days: Self.deadDays,
                                                   more: more ? shown.count : nil)
        } else {
            view["deadSummary"] = text.noDead(days: Self.deadDays)
        }
        view["heldSummary"] = text.heldSummary(count: counts[.held] ?? 0, anyHold: !holds.isEmpty)
        // SPEC §6: mail the relay took and the customer's server refused later.
        if !bounced.isEmpty {
            view["bounced"] = bounced.map { item -> [String: Any] in
                ["orderId": item.delivery.orderId, "orderQuery": Self.percentEncoded(item.delivery.orderId),
                 "kind": item.delivery.kind.rawValue,
                 "recipient": item.delivery.recipient.email.isErased ? "(erased)" : item.delivery.recipient.email.value,
                 "status": item.status ?? "", "diagnostic": item.diagnostic ?? "",
                 "ended": item.delivery.finishedAt.map(time.format) ?? ""]
            }
        }
        view["bouncedSummary"] = bounced.isEmpty ? text.noBounced(days: Self.deadDays)
            : text.bouncedSummary(count: bounced.count, days: Self.deadDays)
        if !bounced.isEmpty { view["hasBounced"] = true }
        if !holds.isEmpty {
            view["holds"] = holds.map { hold -> [String: Any] in
                ["line": text.holdLine(hold.summary(in: text.language, time: time)),
                 "release": text.releaseButton(hold.scope.description(in: text.language)),
                 "kind": hold.scope.kind?.rawValue ?? "", "orderId": hold.scope.orderId ?? ""]
            }
        }
        if let notice { view["notice"] = notice }
        if let error { view["error"] = error }
        return page("lookup", view, status: status)
    }

    /// R7 from the console, answered with the order's page.
    func resend(_ orderId: String, _ body: ResendBody, logger: Logger) async throws -> Response {
        let outcome = try await support.resend(
            ResendRequest(orderId: orderId, kind: body.kind, actor: body.actor, reason: body.reason), logger: logger)
        func answer(_ notice: String?, _ error: String?, _ status: HTTPResponse.Status = .ok) async throws -> Response {
            try await orderPage(orderId, notice: notice, error: error, status: status, logger: logger)
        }
        let text = ConsoleText.current
        switch outcome {
        case .scheduled(let deliveries):
            return try await answer(text.resendScheduled(deliveries.count), nil)
        case .refused(.unknownOrder):
            return try await answer(nil, nil)
        case .refused(let refusal):
            let status: HTTPResponse.Status = if case .limitReached = refusal { .tooManyRequests } else { .conflict }
            return try await answer(nil, text.notResent(refusal.explanation(in: text.language, time: time)), status)
        }
    }

    func orderPage(_ orderId: String, notice: String?, error: String?, status: HTTPResponse.Status = .ok,
                   logger: Logger) async throws -> Response {
        guard !orderId.isEmpty, let report = try await support.report(orderId, logger: logger) else {
            return page("not-found", ["signedIn": true, "orderId": orderId], status: .notFound)
        }
        var view = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]) ?? [:]
        let text = ConsoleText.current
        view["signedIn"] = true
        view["orderPath"] = Self.percentEncoded(orderId)
        view["heading"] = text.orderHeading(orderId)
        let why = try await whyLines(orderId, logger: logger)
        if !why.isEmpty {
            view["why"] = why
            view["hasWhy"] = true
        }
        localize(&view)
        // After an erasure (SPEC §8) a recipient is empty: shown as erased, not as "<>".
        if let deliveries = view["deliveries"] as? [[String: Any]] {
            view["deliveries"] = deliveries.map { delivery -> [String: Any] in
                var delivery = delivery
                if (delivery["recipient"] as? String)?.isEmpty ?? false { delivery["erased"] = true }
                return delivery
            }
        }
        let cancellable = report.deliveries.filter { DeliveryState(rawValue: $0.state).map { !$0.isFinal && $0 != .sending } ?? false }
        if !cancellable.isEmpty {
            view["cancellable"] = cancellable.map { ["id": $0.id, "kind": $0.kind, "state": $0.state, "recipient": $0.recipient] }
            view["hasCancellable"] = true
        }
        if let notice { view["notice"] = notice }
        if let error { view["error"] = error }
        return page("order", view, status: status)
    }

    func page(_ name: String, _ view: [String: Any], status: HTTPResponse.Status = .ok) -> Response {
        var view = view
        let text = ConsoleText.current
        view["t"] = text.phrases
        view["lang"] = text.language.rawValue
        // Every form of a signed-in page carries the session's CSRF token.
        if let session = ConsoleSession.current {
            view["signedIn"] = true
            view["csrf"] = session.csrf
            if let person = session.person { view["person"] = person }
            if session.role.allows(.resend) { view["canResend"] = true }
            if session.role.allows(.hold) { view["canAdmin"] = true }
        }
        if sessions.people != nil { view["people"] = true }
        return Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ], body: .init(byteBuffer: ByteBuffer(string: pages.render(name, view))))
    }

    /// For each unsent delivery: why it is due then, and for access data whether the OTP goes with it.
    func whyLines(_ orderId: String, logger: Logger) async throws -> [[String: Any]] {
        let store = support.store
        let (stored, deliveries, holds) = try await StoreUnavailable.guarding("an order read", logger: logger) {
            (try await store.storedOrder(orderId), try await store.deliveries(orderId: orderId), try await store.holds())
        }
        let explanation = explanation.in(ConsoleText.current.language)
        return deliveries.compactMap { delivery -> [String: Any]? in
            guard let due = explanation.due(delivery, order: stored, holds: holds) else { return nil }
            var line: [String: Any] = ["id": delivery.id, "kind": delivery.kind.rawValue, "due": due]
            if let otp = explanation.oneTimePassword(delivery, order: stored) { line["otp"] = otp }
            return line
        }
    }

    /// SPEC §7: counts per state, the oldest due delivery, and mail per hour
    /// of the last 24 hours as a chart drawn here (SVG, no JavaScript).
    func overview(logger: Logger) async throws -> Response {
        let store = support.store, now = support.clock.now()
        let (counts, oldest, hours) = try await StoreUnavailable.guarding("the overview", logger: logger) {
            (try await store.countsByState(), try await store.oldestWaitingDue(at: now),
             try await store.hourlyOutcomes(from: now.addingTimeInterval(-24 * 3_600 - 3_600), to: now.addingTimeInterval(1)))
        }
        let day = OverviewChart.lastDay(hours, now: now), text = ConsoleText.current
        let hourLabel = { [time] (date: Date) in String(time.format(date).dropFirst(11).prefix(5)) }
        let minutes = oldest.map { Int(now.timeIntervalSince($0) / 60) } ?? 0
        let view: [String: Any] = [
            "states": DeliveryState.allCases.map { ["state": $0.rawValue, "count": counts[$0] ?? 0] },
            "daySummary": text.daySummary(sent: day.map(\.sent).reduce(0, +), dead: day.map(\.dead).reduce(0, +),
                                          bounced: day.map(\.bounced).reduce(0, +)),
            "oldest": text.oldest(oldest.map(time.format), hours: minutes / 60, minutes: minutes % 60),
            "chart": OverviewChart.svg(day, language: text.language, label: hourLabel),
            // The chart's figures as a table too: a screen reader reads them there.
            "hours": day.map { ["hour": hourLabel($0.hour), "sent": $0.sent, "dead": $0.dead, "bounced": $0.bounced] },
        ]
        return page("overview", view)
    }

    /// The report's RFC 3339 UTC times as local times (SPEC §7).
    func localize(_ view: inout [String: Any]) {
        func local(_ list: String, _ keys: [String]) {
            guard let rows = view[list] as? [[String: Any]] else { return }
            view[list] = rows.map { row in
                var row = row
                for key in keys { if let text = row[key] as? String { row[key] = time.format(rfc3339: text) } }
                return row
            }
        }
        local("deliveries", ["dueAt", "sentAt"])
        local("attempts", ["startedAt", "finishedAt"])
        local("history", ["at"])
        if let erased = view["personalDataErasedAt"] as? String {
            view["personalDataErasedAt"] = ConsoleText.current.personalDataErased(time.format(rfc3339: erased))
        }
    }
}
