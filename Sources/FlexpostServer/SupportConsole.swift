import Crypto
import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging
import Mustache

/// The support console under `/support/`: server-rendered pages (Mustache,
/// no JavaScript) to look up an order, see its deliveries and history, and
/// resend with a reason. Signed in with the support token, which sets an
/// HttpOnly, SameSite=Strict cookie holding an HMAC of the token (never the
/// token itself). Shows no secret.
public struct SupportConsole: Sendable {
    /// The console's page templates, loaded at start.
    public struct Pages: Sendable {
        let library: MustacheLibrary
        public static let names = ["layout", "login", "lookup", "order", "not-found"]

        public init(sources: [String: String]) throws(MailTemplates.TemplateError) {
            var library = MustacheLibrary()
            for name in Self.names {
                guard let source = sources[name] else { throw .init(name: "console/\(name).mustache", problem: "missing") }
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
    static let cookieName = "flexpost_support"

    public init(support: SupportRoutes, pages: Pages) {
        self.support = support
        self.pages = pages
    }

    public func register(on router: Router<FlexpostRequestContext>) {
        router.get("/support/") { request, context in
            guard signedIn(request) else { return page("login", [:], status: .ok) }
            do {
                return try await home(logger: context.logger)
            } catch is StoreUnavailable {
                return outage("The queue store is unavailable: the list of undelivered mail cannot be shown now.")
            }
        }
        router.post("/support/login") { request, context in
            if let refusal = crossSite(request) { return refusal }
            let client = context.clientAddress
            if let wait = support.throttle.retryAfter(client: client) {
                var response = page("login", ["error": "Too many wrong tokens from this address: try again in \(wait) s."],
                                    status: .tooManyRequests)
                response.headers[.retryAfter] = String(wait)
                return response
            }
            let form = try await Self.form(request)
            guard let token = support.token, let given = form.token,
                SupportRoutes.constantTimeEqual(Self.session(for: given), Self.session(for: token.exposedValue))
            else {
                support.throttle.failed(client: client, route: "console", logger: context.logger)
                return page("login", ["error": "That support token is not valid."], status: .unauthorized)
            }
            var response = Self.redirect("/support/")
            response.headers[.setCookie] =
                "\(Self.cookieName)=\(Self.session(for: token.exposedValue)); Path=/support; HttpOnly; SameSite=Strict"
            return response
        }
        router.post("/support/logout") { request, _ in
            if let refusal = crossSite(request) { return refusal }
            var response = Self.redirect("/support/")
            response.headers[.setCookie] = "\(Self.cookieName)=; Path=/support; HttpOnly; SameSite=Strict; Max-Age=0"
            return response
        }
        router.get("/support/orders") { request, context in
            guard signedIn(request) else { return refused() }
            let orderId = request.uri.queryParameters.get("id")?.trimmingCharacters(in: .whitespaces) ?? ""
            do {
                return try await orderPage(orderId, notice: nil, error: nil, logger: context.logger)
            } catch is StoreUnavailable {
                return outage("The queue store is unavailable: look the order up again in a moment.")
            }
        }
        registerOperatorControls(on: router)
        router.post("/support/orders/{orderId}/resend") { request, context in
            if let refusal = crossSite(request) { return refusal }
            guard signedIn(request) else { return refused() }
            let orderId = try SupportRoutes.orderId(context)
            let form = try await Self.form(request)
            let body: ResendBody
            do throws(EventRejection) {
                guard let kind = try form.deliveryKind() else {
                    throw EventRejection(field: "kind", rule: "must be \"access-data\" or \"admin-notice\"")
                }
                let (reason, actor) = try form.record()
                body = ResendBody(kind: kind, reason: reason, actor: actor)
            } catch {
                return try await orderPage(orderId, notice: nil, error: "Not resent: \(error.field) \(error.rule).",
                                           status: .badRequest, logger: context.logger)
            }
            do {
                return try await resend(orderId, body, logger: context.logger)
            } catch is StoreUnavailable {
                // The resend may still have been stored after the deadline: look first, then resend.
                return outage("The queue store did not answer: look the order up again in a moment to see "
                              + "whether the resend was scheduled before trying again.")
            }
        }
    }

    /// Operator controls (SPEC §8): hold and release from the first page,
    /// cancel one delivery from the order's page. Until people and roles
    /// exist, whoever holds the support token may use them.
    func registerOperatorControls(on router: Router<FlexpostRequestContext>) {
        router.post("/support/holds") { request, context in
            if let refusal = crossSite(request) { return refusal }
            guard signedIn(request) else { return refused() }
            return try await holdOrRelease(request, release: false, logger: context.logger)
        }
        router.post("/support/holds/release") { request, context in
            if let refusal = crossSite(request) { return refusal }
            guard signedIn(request) else { return refused() }
            return try await holdOrRelease(request, release: true, logger: context.logger)
        }
        router.post("/support/orders/{orderId}/cancel") { request, context in
            if let refusal = crossSite(request) { return refusal }
            guard signedIn(request) else { return refused() }
            let orderId = try SupportRoutes.orderId(context)
            let form = try await Self.form(request)
            func answer(_ notice: String?, _ error: String?, _ status: HTTPResponse.Status) async throws -> Response {
                try await orderPage(orderId, notice: notice, error: error, status: status, logger: context.logger)
            }
            let record: (reason: String, actor: String)
            do throws(EventRejection) {
                record = try form.record()
            } catch {
                return try await answer(nil, "Not cancelled: \(error.field) \(error.rule).", .badRequest)
            }
            let store = support.store, now = support.clock.now()
            do {
                guard let id = form.delivery.flatMap({ Int64($0) }),
                    try await StoreUnavailable.guarding("a delivery read", logger: context.logger, {
                        try await store.orderId(ofDelivery: id)
                    }) == orderId
                else { return try await answer(nil, "Not cancelled: choose one of this order's deliveries.", .badRequest) }
                let cancellation = DeliveryCancellation(deliveryId: id, actor: record.actor, reason: record.reason)
                let refusal = try await StoreUnavailable.guarding("a cancellation", logger: context.logger) {
                    try await store.cancelDelivery(cancellation, at: now)
                }
                context.logger.notice("delivery cancellation requested", metadata: [
                    "delivery.id": "\(id)", "cancel.actor": "\(record.actor)", "cancel.refused": "\(refusal?.explanation ?? "no")",
                ])
                if let refusal { return try await answer(nil, "Not cancelled: \(refusal.explanation).", .conflict) }
                return try await answer("Delivery \(id) cancelled.", nil, .ok)
            } catch is StoreUnavailable {
                return outage("The queue store did not answer: look the order up again in a moment to see "
                              + "whether the delivery was cancelled before trying again.")
            }
        }
    }

    /// A hold or release from the first page, answered with the first page.
    func holdOrRelease(_ request: Request, release: Bool, logger: Logger) async throws -> Response {
        let form = try await Self.form(request)
        let verb = release ? "released" : "held"
        let holdRequest: HoldRequest
        do throws(EventRejection) {
            let (reason, actor) = try form.record()
            let orderId = form.orderId?.trimmingCharacters(in: .whitespaces)
            holdRequest = HoldRequest(scope: HoldScope(kind: try form.deliveryKind(), orderId: orderId?.isEmpty == false ? orderId : nil),
                                      actor: actor, reason: reason)
        } catch {
            return try await home(notice: nil, error: "Not \(verb): \(error.field) \(error.rule).", status: .badRequest,
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
            let scope = holdRequest.scope.description
            switch result.outcome {
            case .held:
                return try await home(notice: "Held: \(scope) (\(result.held) deliveries now, and what arrives or falls due "
                                      + "until it is released).", error: nil, logger: logger)
            case .alreadyHeld(let hold):
                return try await home(notice: "Already held: \(hold.summary).", error: nil, logger: logger)
            case .unknownOrder:
                return try await home(notice: nil, error: "Not held: unknown order.", status: .notFound, logger: logger)
            case .released(_, let still):
                let rest = still.isEmpty ? "" : " Still held by: " + still.map(\.summary).joined(separator: "; ") + "."
                return try await home(notice: "Released: \(scope); \(result.released) deliveries are due again.\(rest)",
                                      error: nil, logger: logger)
            case .nothingHeld:
                return try await home(notice: nil, error: "Nothing released: no hold on \(scope).", status: .conflict,
                                      logger: logger)
            }
        } catch is StoreUnavailable {
            return outage("The queue store did not answer: look at the holds again in a moment before trying again.")
        }
    }

    /// How far back the home page looks for mail that could not be delivered, and how much it lists.
    static let deadDays = 7, deadShown = 50

    /// The look-up form, and the mail of the last week that went dead (its
    /// recipients need a call or a resend): newest first, linked to its order.
    func home(notice: String? = nil, error: String? = nil, status: HTTPResponse.Status = .ok,
              logger: Logger) async throws -> Response {
        let (shown, more) = try await support.recentDead(days: Self.deadDays, showing: Self.deadShown, logger: logger)
        let store = support.store
        let (holds, counts) = try await StoreUnavailable.guarding("a read of the holds", logger: logger) {
            (try await store.holds(), try await store.countsByState())
        }
        let rows: [[String: Any]] = shown.map { delivery in
            [
                "orderId": delivery.orderId, "orderQuery": Self.percentEncoded(delivery.orderId),
                "kind": delivery.kind.rawValue,
                "recipient": delivery.recipient.email.value, "due": RFC3339.format(delivery.dueAt),
                "reply": delivery.lastReply ?? "", "attempts": delivery.attempts,
            ]
        }
        var view: [String: Any] = ["signedIn": true, "deadDays": Self.deadDays, "deadCount": more ? "More than \(shown.count)" : "\(shown.count)"]
        if !rows.isEmpty {
            view["dead"] = rows
            view["hasDead"] = true
        }
        if more { view["deadMore"] = "the newest \(shown.count) are listed; `flexpost list --state dead` shows all" }
        view["heldCount"] = counts[.held] ?? 0
        if !holds.isEmpty {
            view["holds"] = holds.map { hold -> [String: Any] in
                ["scope": hold.scope.description, "kind": hold.scope.kind?.rawValue ?? "", "orderId": hold.scope.orderId ?? "",
                 "actor": hold.actor, "reason": hold.reason, "since": RFC3339.format(hold.since)]
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
        switch outcome {
        case .scheduled(let deliveries):
            return try await answer("Resend scheduled: \(deliveries.count) e-mail(s) to the same recipients.", nil)
        case .refused(.unknownOrder):
            return try await answer(nil, nil)
        case .refused(let refusal):
            let status: HTTPResponse.Status = if case .limitReached = refusal { .tooManyRequests } else { .conflict }
            return try await answer(nil, "Not resent: \(refusal.explanation).", status)
        }
    }

    func orderPage(_ orderId: String, notice: String?, error: String?, status: HTTPResponse.Status = .ok,
                   logger: Logger) async throws -> Response {
        guard !orderId.isEmpty, let report = try await support.report(orderId, logger: logger) else {
            return page("not-found", ["signedIn": true, "orderId": orderId], status: .notFound)
        }
        var view = (try JSONSerialization.jsonObject(with: JSONEncoder().encode(report)) as? [String: Any]) ?? [:]
        view["signedIn"] = true
        view["orderPath"] = Self.percentEncoded(orderId)
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
        Response(status: status, headers: [
            .contentType: "text/html; charset=utf-8", .cacheControl: "no-store",
            HTTPField.Name("Content-Security-Policy")!: "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
            HTTPField.Name("X-Frame-Options")!: "DENY",
        ], body: .init(byteBuffer: ByteBuffer(string: pages.render(name, view))))
    }

    /// The store failed or did not answer in time (see ``StoreUnavailable``).
    func outage(_ message: String) -> Response {
        var response = page("lookup", ["signedIn": true, "error": message], status: .serviceUnavailable)
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
        return foreign ? page("login", ["error": "Refused: this form was not sent from the support console."], status: .forbidden) : nil
    }

    func refused() -> Response {
        page("login", ["error": "Please sign in with the support token."], status: .unauthorized)
    }

    func signedIn(_ request: Request) -> Bool {
        guard let token = support.token, let cookies = request.headers[.cookie] else { return false }
        let expected = Self.session(for: token.exposedValue)
        for cookie in cookies.split(separator: ";") {
            let parts = cookie.trimmingCharacters(in: .whitespaces).split(separator: "=", maxSplits: 1)
            if parts.count == 2, parts[0] == Self.cookieName, SupportRoutes.constantTimeEqual(String(parts[1]), expected) {
                return true
            }
        }
        return false
    }

    /// The cookie value: an HMAC of the token, so the token never travels in a cookie.
    static func session(for token: String) -> String {
        let mac = HMAC<SHA256>.authenticationCode(
            for: Data("flexpost support console session v1".utf8), using: SymmetricKey(data: Data(token.utf8)))
        return Data(mac).base64EncodedString().replacingOccurrences(of: "+", with: "-")
            .replacingOccurrences(of: "/", with: "_").replacingOccurrences(of: "=", with: "")
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
        func record() throws(EventRejection) -> (reason: String, actor: String) {
            (try ResendRequest.recordedText(reason, field: "reason"), try ResendRequest.recordedText(actor, field: "actor"))
        }
    }

    static func form(_ request: Request) async throws -> Form {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        do {
            return try URLEncodedFormDecoder().decode(Form.self, from: String(buffer: buffer))
        } catch {
            return Form()
        }
    }
}
