import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension SupportConsole {
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

    /// SPEC §7: a button the person's role does not have (403).
    func notAllowed(_ session: ConsoleSession, _ action: SupportAction) -> String {
        ConsoleText.current.notAllowed(role: session.role, action)
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
