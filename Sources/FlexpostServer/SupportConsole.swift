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
            guard let token = support.token, let given = form["token"],
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
        router.post("/support/orders/{orderId}/resend") { request, context in
            if let refusal = crossSite(request) { return refusal }
            guard signedIn(request) else { return refused() }
            let orderId = try SupportRoutes.orderId(context)
            let form = try await Self.form(request)
            let body: ResendBody
            do {
                let json = try JSONSerialization.data(withJSONObject: form)
                body = try ResendBody.parse(Array(json))
            } catch let error as EventRejection {
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

    /// How far back the home page looks for mail that could not be delivered, and how much it lists.
    static let deadDays = 7, deadShown = 50

    /// The look-up form, and the mail of the last week that went dead (its
    /// recipients need a call or a resend): newest first, linked to its order.
    func home(logger: Logger) async throws -> Response {
        let (shown, more) = try await support.recentDead(days: Self.deadDays, showing: Self.deadShown, logger: logger)
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
        return page("lookup", view)
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

    /// An `application/x-www-form-urlencoded` body.
    static func form(_ request: Request) async throws -> [String: String] {
        var request = request
        let buffer = try await request.collectBody(upTo: 64 * 1024)
        let text = String(buffer: buffer)
        var fields: [String: String] = [:]
        for pair in text.split(separator: "&") {
            let parts = pair.split(separator: "=", maxSplits: 1).map {
                String($0).replacingOccurrences(of: "+", with: " ").removingPercentEncoding ?? ""
            }
            if parts.count == 2 { fields[parts[0]] = parts[1] }
        }
        return fields
    }
}
