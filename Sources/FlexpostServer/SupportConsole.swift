import Crypto
import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// The support console under `/support/`: server-rendered pages (Mustache,
/// no JavaScript) to look up an order, see its deliveries and history, and
/// resend with a reason, hold and release, cancel a delivery. Signed in with
/// the support token, which starts a random, server-side session
/// (``ConsoleSessions``); every form carries the session's CSRF token. Shows
/// no secret.
public struct SupportConsole: Sendable {
    /// The console's page templates, loaded at start.
    public struct Pages: Sendable {
        let library: MustacheLibrary
        public static let names = ["layout", "login", "lookup", "order", "not-found", "search", "overview"]
        /// Every console template starts with this pragma: its values are then
        /// HTML-escaped byte by byte, like the mail's (``HTMLText/escaped(_:)``).
        public static let pragma = "{{% CONTENT_TYPE: BYTEWISE_HTML }}"

        /// swift-mustache's HTML content type escapes whole characters: a quote
        /// followed by a combining mark passed unescaped, and ended an attribute.
        struct BytewiseHTML: MustacheContentType {
            func escapeText(_ text: String) -> String { HTMLText.escaped(text) }
        }

        public init(sources: [String: String]) throws(MailTemplates.TemplateError) {
            MustacheContentTypes.register(BytewiseHTML(), named: "BYTEWISE_HTML")
            var library = MustacheLibrary()
            for name in Self.names {
                guard let source = sources[name] else { throw .init(name: "console/\(name).mustache", problem: "missing") }
                guard source.hasPrefix(Self.pragma) else {
                    throw .init(name: "console/\(name).mustache", problem: "must start with \(Self.pragma)")
                }
                do {
                    library.register(try MustacheTemplate(string: source), named: name)
                } catch {
                    throw .init(name: "console/\(name).mustache", problem: "does not parse (\(error))")
                }
            }
            self.library = library
        }

        func render(_ name: String, _ view: [String: Any]) -> String {
            library.render(view, withTemplate: name) ?? ""
        }
    }

    let support: SupportRoutes
    let pages: Pages
    let sessions: ConsoleSessions
    /// SPEC §7: times on the pages in `FLEXPOST_TIMEZONE`.
    let time: LocalDisplayTime
    /// SPEC §7 "why", by the rules that schedule and compose.
    let explanation: DeliveryExplanation
    static let cookieName = ConsoleSessions.cookieName

    /// - Parameter secureCookies: mark the session cookie `Secure` (the console
    ///   is reached over HTTPS, i.e. not on loopback).
    /// - Parameter people: `FLEXPOST_SUPPORT_USERS` (SPEC §7): people sign in with
    ///   name and password and act as themselves, by role. Without it, the
    ///   support token signs in, with every right, and actions carry a typed name.
    public init(support: SupportRoutes, pages: Pages, secureCookies: Bool, people: SupportUsers? = nil,
                schedule: AccessDataSchedule = AccessDataSchedule(timeZone: TimeZone(identifier: "Europe/Berlin")!,
                                                                  sendAt: LocalTime("08:00")!)) {
        self.support = support
        self.pages = pages
        self.time = LocalDisplayTime(timeZone: schedule.timeZone)
        self.explanation = DeliveryExplanation(schedule: schedule, time: time)
        self.sessions = ConsoleSessions(store: support.store, clock: support.clock, secure: secureCookies, people: people)
    }

    public func register(on parent: Router<FlexpostRequestContext>) {
        // SPEC §7: every page in the browser's language.
        let router = parent.group().add(middleware: ConsoleLanguageMiddleware())
        router.get("/support/") { request, context in
            try await signedIn(request, context, otherwise: page("login", [:], status: .ok)) { _ in
                do {
                    return try await home(logger: context.logger)
                } catch is StoreUnavailable {
                    return outage(.home)
                }
            }
        }
        router.post("/support/login") { request, context in
            if let refusal = crossSite(request) { return refusal }
            let client = context.clientAddress
            let form = try await Self.form(request)
            let name = sessions.people == nil ? nil : form.name
            if let wait = support.throttle.retryAfter(client: client, name: name) {
                var response = page("login", ["error": ConsoleText.current.tooManySignIns(wait)],
                                    status: .tooManyRequests)
                response.headers[.retryAfter] = String(wait)
                return response
            }
            let subject: String
            if let people = sessions.people {
                // SPEC §7: name and password; bcrypt off the cooperative pool, and as
                // slow for an unknown name as for a wrong password.
                let person = name.flatMap { people.people[$0] }
                guard await SupportPasswords.verify(form.password ?? "", hash: person?.passwordHash), let person else {
                    support.throttle.failed(client: client, name: name, route: "console", logger: context.logger)
                    return page("login", ["error": ConsoleText.current.wrongPassword], status: .unauthorized)
                }
                subject = person.name
            } else {
                guard let token = support.token, let given = form.token,
                    SupportRoutes.constantTimeEqual(given, token.exposedValue)
                else {
                    support.throttle.failed(client: client, route: "console", logger: context.logger)
                    return page("login", ["error": ConsoleText.current.wrongToken], status: .unauthorized)
                }
                subject = ConsoleSessions.tokenSubject
            }
            let id: Secret
            do {
                id = try await sessions.begin(subject: subject, logger: context.logger)
            } catch is StoreUnavailable {
                return outage(.signIn)
            }
            context.logger.info("support sign-in", metadata: ["client.address": "\(client)", "support.person": "\(subject)"])
            var response = Self.redirect("/support/")
            response.headers[.setCookie] = sessions.cookie(id)
            return response
        }
        router.post("/support/logout") { request, context in
            if let refusal = crossSite(request) { return refusal }
            return try await signedIn(request, context, otherwise: Self.redirect("/support/")) { session in
                let form = try await Self.form(request)
                guard session.accepts(form.csrf) else { return forgedForm() }
                do {
                    try await sessions.end(session, logger: context.logger)
                } catch is StoreUnavailable {
                    return outage(.signOut)
                }
                var response = Self.redirect("/support/")
                response.headers[.setCookie] = sessions.expiredCookie
                return response
            }
        }
        router.get("/support/orders") { request, context in
            try await signedIn(request, context, otherwise: refused()) { _ in
                let orderId = request.uri.queryParameters.get("id")?.trimmingCharacters(in: .whitespaces) ?? ""
                do {
                    // SPEC §7: one field; a single match opens the order, several are listed newest first.
                    if let query = request.uri.queryParameters.get("q").map({ String($0) }), orderId.isEmpty {
                        let (orders, more) = try await support.search(String(query.prefix(254)), logger: context.logger)
                        if orders.count == 1 && !more {
                            return try await orderPage(orders[0].orderId, notice: nil, error: nil, logger: context.logger)
                        }
                        let text = ConsoleText.current
                        return page("search", [
                            "query": query, "heading": text.searchHeading(query),
                            "summary": text.searchSummary(count: orders.count, more: more),
                            "orders": orders.map { ["orderId": $0.orderId, "orderQuery": Self.percentEncoded($0.orderId),
                                                    "customerNumber": $0.customerNumber, "received": time.format($0.receivedAt)] },
                        ], status: orders.isEmpty ? .notFound : .ok)
                    }
                    return try await orderPage(orderId, notice: nil, error: nil, logger: context.logger)
                } catch is StoreUnavailable {
                    return outage(.lookUp)
                }
            }
        }
        registerOperatorControls(on: router)
        router.get("/support/overview") { request, context in
            try await signedIn(request, context, otherwise: refused()) { _ in
                do {
                    return try await overview(logger: context.logger)
                } catch is StoreUnavailable {
                    return outage(.overview)
                }
            }
        }
        router.post("/support/orders/{orderId}/resend") { request, context in
            if let refusal = crossSite(request) { return refusal }
            return try await signedIn(request, context, otherwise: refused()) { session in
            let orderId = try SupportRoutes.orderId(context)
            let form = try await Self.form(request)
            guard session.accepts(form.csrf) else { return forgedForm() }
            guard session.role.allows(.resend) else { return notAllowed(session, .resend) }
            let body: ResendBody
            do throws(EventRejection) {
                guard let kind = try form.deliveryKind() else {
                    throw EventRejection(field: "kind", rule: "must be \"access-data\" or \"admin-notice\"")
                }
                let (reason, actor) = try form.record(by: session)
                body = ResendBody(kind: kind, reason: reason, actor: actor)
            } catch {
                let text = ConsoleText.current
                return try await orderPage(orderId, notice: nil, error: text.notResent(text.rejected(error)),
                                           status: .badRequest, logger: context.logger)
            }
            do {
                return try await resend(orderId, body, logger: context.logger)
            } catch is StoreUnavailable {
                // The resend may still have been stored after the deadline: look first, then resend.
                return outage(.resend)
            }
            }
        }
    }

    /// Operator controls (SPEC §8): hold and release from the first page,
    /// cancel one delivery from the order's page. Until people and roles
    /// exist, whoever holds the support token may use them.
    func registerOperatorControls(on router: RouterGroup<FlexpostRequestContext>) {
        router.post("/support/holds") { request, context in
            if let refusal = crossSite(request) { return refusal }
            return try await signedIn(request, context, otherwise: refused()) { session in
                try await holdOrRelease(request, session: session, release: false, logger: context.logger)
            }
        }
        router.post("/support/holds/release") { request, context in
            if let refusal = crossSite(request) { return refusal }
            return try await signedIn(request, context, otherwise: refused()) { session in
                try await holdOrRelease(request, session: session, release: true, logger: context.logger)
            }
        }
        router.post("/support/orders/{orderId}/cancel") { request, context in
            if let refusal = crossSite(request) { return refusal }
            return try await signedIn(request, context, otherwise: refused()) { session in
            let orderId = try SupportRoutes.orderId(context)
            let form = try await Self.form(request)
            guard session.accepts(form.csrf) else { return forgedForm() }
            guard session.role.allows(.cancel) else { return notAllowed(session, .cancel) }
            func answer(_ notice: String?, _ error: String?, _ status: HTTPResponse.Status) async throws -> Response {
                try await orderPage(orderId, notice: notice, error: error, status: status, logger: context.logger)
            }
            let record: (reason: String, actor: String), text = ConsoleText.current
            do throws(EventRejection) {
                record = try form.record(by: session)
            } catch {
                return try await answer(nil, text.notCancelled(text.rejected(error)), .badRequest)
            }
            let store = support.store, now = support.clock.now()
            do {
                guard let id = form.delivery.flatMap({ Int64($0) }),
                    try await StoreUnavailable.guarding("a delivery read", logger: context.logger, {
                        try await store.orderId(ofDelivery: id)
                    }) == orderId
                else { return try await answer(nil, text.notCancelled(text.chooseDelivery), .badRequest) }
                let cancellation = DeliveryCancellation(deliveryId: id, actor: record.actor, reason: record.reason)
                let refusal = try await StoreUnavailable.guarding("a cancellation", logger: context.logger) {
                    try await store.cancelDelivery(cancellation, at: now)
                }
                context.logger.notice("delivery cancellation requested", metadata: [
                    "delivery.id": "\(id)", "cancel.actor": "\(record.actor)", "cancel.refused": "\(refusal?.explanation ?? "no")",
                ])
                if let refusal { return try await answer(nil, text.notCancelled(refusal.explanation(in: text.language)), .conflict) }
                return try await answer(text.cancelledDelivery(id), nil, .ok)
            } catch is StoreUnavailable {
                return outage(.cancel)
            }
            }
        }
    }

    /// A hold or release from the first page, answered with the first page.
    func holdOrRelease(_ request: Request, session: ConsoleSession, release: Bool, logger: Logger) async throws -> Response {
        let form = try await Self.form(request)
        guard session.accepts(form.csrf) else { return forgedForm() }
        guard session.role.allows(release ? .release : .hold) else { return notAllowed(session, release ? .release : .hold) }
        let text = ConsoleText.current
        let holdRequest: HoldRequest
        do throws(EventRejection) {
            let (reason, actor) = try form.record(by: session)
            let orderId = form.orderId?.trimmingCharacters(in: .whitespaces)
            holdRequest = HoldRequest(scope: HoldScope(kind: try form.deliveryKind(), orderId: orderId?.isEmpty == false ? orderId : nil),
                                      actor: actor, reason: reason)
        } catch {
            return try await home(notice: nil, error: text.notHeldOrReleased(release: release, text.rejected(error)), status: .badRequest,
                                  logger: logger)
        }
        let store = support.store, now = support.clock.now()
        do {
            let result = try await StoreUnavailable.guarding(release ? "a release" : "a hold", logger: logger) {
                release ? try await store.release(holdRequest, at: now) : try await store.hold(holdRequest, at: now)
            }
            logger.notice(release ? "release requested" : "hold requested", metadata: [
                "hold.scope": "\(holdRequest.scope.description)", "hold.actor": "\(holdRequest.actor)",
            ])
            if result.released > 0 { support.queued() }
            let scope = holdRequest.scope.description(in: text.language)
            func summary(_ hold: Hold) -> String { hold.summary(in: text.language, time: time) }
            switch result.outcome {
            case .held:
                return try await home(notice: text.held(scope, count: result.held), error: nil, logger: logger)
            case .alreadyHeld(let hold):
                return try await home(notice: text.alreadyHeld(summary(hold)), error: nil, logger: logger)
            case .unknownOrder:
                return try await home(notice: nil, error: text.notHeldOrReleased(release: false, text.unknownOrderLower),
                                      status: .notFound, logger: logger)
            case .released(_, let still):
                return try await home(notice: text.released(scope, count: result.released, stillHeldBy: still.map(summary)),
                                      error: nil, logger: logger)
            case .nothingHeld:
                return try await home(notice: nil, error: text.nothingReleased(scope), status: .conflict, logger: logger)
            }
        } catch is StoreUnavailable {
            return outage(.holds)
        }
    }

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
        var view: [String: Any] = ["signedIn": true]
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

    /// The store failed or did not answer in time (see ``StoreUnavailable``).
    func outage(_ what: ConsoleText.Outage) -> Response {
        var response = page("lookup", ["signedIn": true, "error": ConsoleText.current.outage(what)], status: .serviceUnavailable)
        response.headers[.retryAfter] = String(StoreUnavailable.retryAfterSeconds)
        return response
    }

    /// A POST that a page of another site made the browser send (it says so in
    /// `Origin` or `Sec-Fetch-Site`), or that is not a form: 403. The console's
    /// own forms come from its own origin and are form-encoded.
    func crossSite(_ request: Request) -> Response? {
        let type = request.headers[.contentType]?.lowercased() ?? ""
        let isForm = type.split(separator: ";").first.map { $0.trimmingCharacters(in: .whitespaces) } == "application/x-www-form-urlencoded"
        var foreign = !isForm
        if let origin = request.headers[.origin] {
            let host = request.head.authority ?? ""
            foreign = foreign || !(origin == "http://" + host || origin == "https://" + host)
        }
        if let site = request.headers[HTTPField.Name("Sec-Fetch-Site")!], !["same-origin", "none"].contains(site) {
            foreign = true
        }
        return foreign ? page("login", ["error": ConsoleText.current.crossSite], status: .forbidden) : nil
    }

    func refused() -> Response {
        let text = ConsoleText.current
        return page("login", ["error": sessions.people == nil ? text.signInWithToken : text.signInFirst], status: .unauthorized)
    }

    /// Runs `body` for a request with a live session (SPEC §7), with the
    /// session set for the pages it renders; otherwise answers `otherwise`.
    /// A store that cannot say whether the session lives is an outage (503),
    /// not a sign-out.
    func signedIn(_ request: Request, _ context: FlexpostRequestContext, otherwise: @autoclosure () -> Response,
                  _ body: (ConsoleSession) async throws -> Response) async throws -> Response {
        let session: ConsoleSession?
        do {
            session = try await sessions.resume(cookieHeader: request.headers[.cookie], logger: context.logger)
        } catch is StoreUnavailable {
            return outage(.session)
        }
        guard let session else { return otherwise() }
        return try await ConsoleSession.$current.withValue(session) { try await body(session) }
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

    /// SPEC §7: a button the person's role does not have (403).
    func notAllowed(_ session: ConsoleSession, _ action: SupportAction) -> Response {
        page("lookup", ["error": ConsoleText.current.notAllowed(role: session.role, action)], status: .forbidden)
    }

    /// A signed-in POST without the session's CSRF token: another page made the browser send it.
    func forgedForm() -> Response {
        page("login", ["error": ConsoleText.current.forgedForm], status: .forbidden)
    }

    /// An order id as one URL path segment or query value: everything but
    /// letters, digits and `-._~` percent-encoded, so that an id holding `/`,
    /// `..`, `?`, `&` or `#` cannot point a link or a form at another order.
    static func percentEncoded(_ id: String) -> String {
        id.addingPercentEncoding(withAllowedCharacters: unreserved) ?? ""
    }

    static let unreserved = CharacterSet(charactersIn: "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~")

    static func redirect(_ location: String) -> Response {
        Response(status: .seeOther, headers: [.location: location])
    }

    /// The fields of the console's forms, decoded from the
    /// `application/x-www-form-urlencoded` body by Hummingbird. Every field is
    /// optional here; the rules that record them say which are required.
    struct Form: Decodable {
        var token: String?
        var name: String?
        var password: String?
        var csrf: String?
        var kind: String?
        var orderId: String?
        var delivery: String?
        var reason: String?
        var actor: String?

        /// `kind` as a delivery kind; empty or absent: every kind.
        func deliveryKind() throws(EventRejection) -> DeliveryKind? {
            guard let kind, !kind.isEmpty else { return nil }
            guard let parsed = DeliveryKind(rawValue: kind) else {
                throw EventRejection(field: "kind", rule: "must be \"access-data\" or \"admin-notice\"")
            }
            return parsed
        }

        /// `reason` and `actor`, as every recorded action requires them.
        /// `reason`, and the actor: the signed-in person when people sign in
        /// (SPEC §7: never a typed name), else the typed `actor`.
        func record(by session: ConsoleSession) throws(EventRejection) -> (reason: String, actor: String) {
            let reason = try ResendRequest.recordedText(reason, field: "reason")
            if let person = session.person { return (reason, person) }
            return (reason, try ResendRequest.recordedText(actor, field: "actor"))
        }
    }

    static func form(_ request: Request) async throws -> Form {
        var request = request
        let buffer = try await request.collectBody(within: 64 * 1024) ?? ByteBuffer()
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: String(buffer: buffer))
        } catch {
            return Form()
        }
    }
}
