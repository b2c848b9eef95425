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
/// no secret. Its words are English or German (``ConsoleText``).
///
/// The routes are here; the pages in `SupportConsole+Views.swift`, hold,
/// release and cancel in `+Operator`, sessions, refusals and forms in `+Guards`.
public struct SupportConsole: Sendable {
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
            guard session.role.allows(.resend) else {
                return try await orderPage(orderId, notice: nil, error: notAllowed(session, .resend), status: .forbidden,
                                           logger: context.logger)
            }
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
}
