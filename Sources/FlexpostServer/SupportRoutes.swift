import Crypto
import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// The support API (SPEC §4): an order's deliveries and history, and R7
/// resends, behind `Authorization: Bearer <FLEXPOST_SUPPORT_TOKEN>`.
/// No answer ever holds a secret.
public struct SupportRoutes: Sendable {
    /// Bounded as a request allows (``StoreDeadlines/requests``); shared with
    /// the operator routes and the console.
    let store: DeadlineStore
    let token: Secret?
    let clock: any WallClock
    let resendLimit: Int
    let messageID: @Sendable () -> String
    /// Told when a resend was scheduled (due now): `serve` rings its delivery loop.
    let queued: @Sendable () -> Void
    /// Wrong tokens, here and on the console's sign-in.
    let throttle: SignInThrottle

    public init(store: DeadlineStore, token: Secret?, clock: any WallClock, resendLimit: Int,
                messageID: @escaping @Sendable () -> String, queued: @escaping @Sendable () -> Void = {}) {
        self.store = store
        self.token = token
        self.clock = clock
        self.throttle = SignInThrottle(clock: clock)
        self.resendLimit = resendLimit
        self.messageID = messageID
        self.queued = queued
    }

    public func register(on router: Router<FlexpostRequestContext>) {
        router.get("/v1/orders/{orderId}") { request, context -> Response in
            if let refusal = self.refusal(request, context: context) { return refusal }
            let orderId = try Self.orderId(context)
            guard let report = try await self.report(orderId, logger: context.logger) else {
                return JSONResponse.error(.notFound, "unknown order")
            }
            return JSONResponse.make(.ok, report)
        }
        router.get("/v1/orders") { request, context -> Response in
            if let refusal = self.refusal(request, context: context) { return refusal }
            guard let query = request.uri.queryParameters.get("q"), !query.trimmingCharacters(in: .whitespaces).isEmpty,
                query.count <= 254
            else {
                return JSONResponse.make(.badRequest, ["error": "invalid search: q is required (at most 254 characters)",
                                                        "field": "q", "rule": "is required"])
            }
            let found = try await self.search(query, logger: context.logger)
            return JSONResponse.make(.ok, SearchAnswer(query: query, orders: found.orders, more: found.more))
        }
        router.post("/v1/orders/{orderId}/resend") { request, context -> Response in
            if let refusal = self.refusal(request, context: context) { return refusal }
            let orderId = try Self.orderId(context)
            var request = request
            guard let body = try await request.collectBody(within: 64 * 1024) else {
                return JSONResponse.error(.contentTooLarge, "body must be at most 64 KiB")
            }
            let parsed: ResendBody
            do {
                parsed = try ResendBody.parse(Array(body.readableBytesView))
            } catch let error as EventRejection {
                return JSONResponse.make(.badRequest, ["error": "invalid resend request: \(error.field) \(error.rule)",
                                                        "field": error.field, "rule": error.rule])
            }
            let outcome = try await self.resend(
                ResendRequest(orderId: orderId, kind: parsed.kind, actor: parsed.actor, reason: parsed.reason),
                logger: context.logger)
            context.logger.info("resend requested", metadata: [
                "order.id": "\(orderId)", "resend.kind": "\(parsed.kind.rawValue)", "resend.actor": "\(parsed.actor)",
            ])
            return Self.answer(outcome)
        }
    }

    /// An order's deliveries, attempts and history for the API and the console.
    func report(_ orderId: String, logger: Logger) async throws -> OrderReport? {
        let store = self.store
        return try await StoreUnavailable.guarding("an order read", logger: logger) {
            try await OrderReport.load(orderId: orderId, store: store)
        }
    }

    /// SPEC §7: the orders one search field finds, newest first (at most 50, and whether there are more).
    func search(_ query: String, logger: Logger) async throws -> (orders: [OrderMatch], more: Bool) {
        let store = self.store, term = OrderSearch.term(query)
        let found = try await StoreUnavailable.guarding("a search", logger: logger) {
            try await store.searchOrders(term: term, limit: Self.searchShown + 1)
        }
        return (Array(found.prefix(Self.searchShown)), found.count > Self.searchShown)
    }

    static let searchShown = 50

    struct SearchAnswer: Encodable {
        var query: String
        var orders: [OrderMatch]
        var more: Bool
    }

    /// The newest `showing` dead deliveries of the last `days` days, newest
    /// first, and whether there were more (for the console's first page).
    func recentDead(days: Int, showing: Int, logger: Logger) async throws -> (shown: [Delivery], more: Bool) {
        let (store, now) = (self.store, clock.now())
        let dead = try await StoreUnavailable.guarding("a dead-letter read", logger: logger) {
            try await store.deadDeliveries(endedFrom: now.addingTimeInterval(-86_400 * Double(days)), to: now,
                                           limit: showing + 1, newestFirst: true)
        }
        return (Array(dead.prefix(showing)), dead.count > showing)
    }

    /// R7 for the API and the console: stored, then the delivery loop is told.
    func resend(_ request: ResendRequest, logger: Logger) async throws -> ResendOutcome {
        let (store, now, limit, messageID) = (self.store, clock.now(), resendLimit, self.messageID)
        let outcome = try await StoreUnavailable.guarding("a resend", logger: logger) {
            try await store.resend(request, at: now, limitPerDay: limit, messageID: messageID)
        }
        if case .scheduled = outcome { queued() }
        return outcome
    }

    static func answer(_ outcome: ResendOutcome) -> Response {
        switch outcome {
        case .scheduled(let deliveries):
            return JSONResponse.make(.accepted, ResendAnswer(result: "scheduled", deliveries: deliveries.map(DeliveryView.init)))
        case .refused(let refusal):
            switch refusal {
            case .unknownOrder: return JSONResponse.error(.notFound, refusal.explanation)
            case .limitReached: return JSONResponse.error(.tooManyRequests, refusal.explanation)
            case .secretsGone, .orderCancelled, .stillScheduled, .nothingToResend, .personalDataErased:
                return JSONResponse.error(.conflict, refusal.explanation)
            }
        }
    }

    struct ResendAnswer: Encodable {
        var result: String
        var deliveries: [DeliveryView]
    }

    /// nil when the bearer token is right. Otherwise the answer: 429 with
    /// Retry-After while the client is throttled (whatever it sends), else 401;
    /// a wrong token (not a missing one) counts as a failure.
    func refusal(_ request: Request, context: FlexpostRequestContext) -> Response? {
        let client = context.clientAddress
        if let wait = throttle.retryAfter(client: client) { return Self.throttled(wait) }
        if authorized(request) { return nil }
        if request.headers[.authorization] != nil { throttle.failed(client: client, route: "api", logger: context.logger) }
        return Self.unauthorized()
    }

    /// The `{orderId}` path segment, percent-decoded: the router hands it over
    /// as sent, and an order id may hold `/` (sent as `%2F`).
    static func orderId(_ context: FlexpostRequestContext) throws -> String {
        let raw = try context.parameters.require("orderId")
        return raw.removingPercentEncoding ?? raw
    }

    static func throttled(_ seconds: Int) -> Response {
        var response = JSONResponse.error(.tooManyRequests, "too many wrong support tokens from this address: try again later")
        response.headers[.retryAfter] = String(seconds)
        return response
    }

    func authorized(_ request: Request) -> Bool {
        // RFC 9110: the scheme is case-insensitive (`bearer`, `BEARER`).
        guard let token, let header = request.headers[.authorization], let space = header.firstIndex(of: " "),
            header[..<space].lowercased() == "bearer"
        else { return false }
        let credentials = header[header.index(after: space)...].trimmingCharacters(in: .whitespaces)
        return Self.constantTimeEqual(credentials, token.exposedValue)
    }

    /// Compares two strings in constant time (over fixed-length digests), for tokens and session values.
    static func constantTimeEqual(_ a: String, _ b: String) -> Bool {
        let x = SHA256.hash(data: Data(a.utf8)), y = SHA256.hash(data: Data(b.utf8))
        return zip(x, y).reduce(UInt8(0)) { $0 | ($1.0 ^ $1.1) } == 0
    }

    static func unauthorized() -> Response {
        var response = JSONResponse.error(.unauthorized, "a valid support token is required")
        response.headers[.wwwAuthenticate] = "Bearer"
        return response
    }
}

/// The body of a resend request: `{"kind", "reason", "actor"}`.
public struct ResendBody: Sendable {
    public var kind: DeliveryKind
    public var reason: String
    public var actor: String

    public static func parse(_ bytes: [UInt8]) throws(EventRejection) -> ResendBody {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw EventRejection(field: "body", rule: "must be a JSON object")
        }
        guard let kindText = object["kind"] as? String, let kind = DeliveryKind(rawValue: kindText) else {
            throw EventRejection(field: "kind", rule: "must be \"access-data\" or \"admin-notice\"")
        }
        return ResendBody(kind: kind, reason: try ResendRequest.recordedText(object["reason"] as? String, field: "reason"),
                          actor: try ResendRequest.recordedText(object["actor"] as? String, field: "actor"))
    }
}
