import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// Operator controls over HTTP (SPEC §8), behind the support bearer token:
/// the holds in force, hold, release, and cancelling one delivery. Decided by
/// the same core rules as the command line (``HoldRules``,
/// ``OrderLifecycle/cancelDelivery(_:facts:at:)``).
public struct OperatorRoutes: Sendable {
    let support: SupportRoutes

    public init(support: SupportRoutes) {
        self.support = support
    }

    public func register(on router: Router<FlexpostRequestContext>) {
        router.get("/v1/holds") { request, context -> Response in
            if let refusal = support.refusal(request, context: context) { return refusal }
            let store = support.store
            let (holds, counts) = try await StoreUnavailable.guarding("a read of the holds", logger: context.logger) {
                (try await store.holds(), try await store.countsByState())
            }
            return JSONResponse.make(.ok, HoldsAnswer(holds: holds.map(HoldView.init), held: counts[.held] ?? 0))
        }
        router.post("/v1/holds") { request, context -> Response in
            let decided = try await decide(request, context, "a hold") { store, parsed, now in try await store.hold(parsed, at: now) }
            guard case .success(let (parsed, result)) = decided else { return decided.answer }
            context.logger.notice("hold requested", metadata: [
                "hold.scope": "\(parsed.scope.description)", "hold.actor": "\(parsed.actor)", "hold.held": "\(result.held)",
            ])
            switch result.outcome {
            case .held:
                return JSONResponse.make(.created, HoldAnswer(result: "held", held: result.held))
            case .alreadyHeld(let hold):
                return JSONResponse.make(.ok, HoldAnswer(result: "already-held", held: 0, hold: HoldView(hold)))
            case .unknownOrder:
                return JSONResponse.error(.notFound, "unknown order")
            case .released, .nothingHeld:
                preconditionFailure("a hold decision does not release")
            }
        }
        router.post("/v1/holds/release") { request, context -> Response in
            let decided = try await decide(request, context, "a release") { store, parsed, now in
                try await store.release(parsed, at: now)
            }
            guard case .success(let (parsed, result)) = decided else { return decided.answer }
            if result.released > 0 { support.queued() }
            context.logger.notice("release requested", metadata: [
                "hold.scope": "\(parsed.scope.description)", "hold.actor": "\(parsed.actor)",
                "hold.released": "\(result.released)",
            ])
            switch result.outcome {
            case .released(let lifted, let still):
                return JSONResponse.make(.ok, ReleaseAnswer(result: "released", released: result.released,
                                                            lifted: lifted.map(HoldView.init), stillHeldBy: still.map(HoldView.init)))
            case .nothingHeld(let still):
                return JSONResponse.make(.ok, ReleaseAnswer(result: "nothing-held", released: 0, lifted: [],
                                                            stillHeldBy: still.map(HoldView.init)))
            case .held, .alreadyHeld, .unknownOrder:
                preconditionFailure("a release decision does not hold")
            }
        }
        router.post("/v1/deliveries/{deliveryId}/cancel") { request, context -> Response in
            if let refusal = support.refusal(request, context: context) { return refusal }
            guard let deliveryId = Int64(try context.parameters.require("deliveryId")) else {
                return JSONResponse.error(.notFound, "unknown delivery")
            }
            var request = request
            guard let body = try await request.collectBody(within: 64 * 1024) else {
                return JSONResponse.error(.contentTooLarge, "body must be at most 64 KiB")
            }
            let record: ActionBody
            do {
                record = try ActionBody.parse(Array(body.readableBytesView))
            } catch let error as EventRejection {
                return Self.invalid(error)
            }
            let (store, now) = (support.store, support.clock.now())
            let cancellation = DeliveryCancellation(deliveryId: deliveryId, actor: record.actor, reason: record.reason)
            let refusal = try await StoreUnavailable.guarding("a cancellation", logger: context.logger) {
                try await store.cancelDelivery(cancellation, at: now)
            }
            context.logger.notice("delivery cancellation requested", metadata: [
                "delivery.id": "\(deliveryId)", "cancel.actor": "\(record.actor)",
                "cancel.refused": "\(refusal?.explanation ?? "no")",
            ])
            switch refusal {
            case nil: return JSONResponse.make(.ok, ["result": "cancelled"])
            case .unknownDelivery: return JSONResponse.error(.notFound, DeliveryCancellationRefusal.unknownDelivery.explanation)
            case let refusal?: return JSONResponse.error(.conflict, refusal.explanation)
            }
        }
    }

    /// A hold or release over HTTP: the bearer token checked, the body read,
    /// the decision recorded; or the answer that ends the request early.
    func decide(_ request: Request, _ context: FlexpostRequestContext, _ what: String,
                _ record: @escaping @Sendable (any QueueStore, HoldRequest, Date) async throws -> HoldResult) async throws
        -> Result<(HoldRequest, HoldResult), AnswerError>
    {
        if let refusal = support.refusal(request, context: context) { return .failure(AnswerError(refusal)) }
        let parsed: HoldRequest
        switch try await Self.holdRequest(request) {
        case .success(let body): parsed = body
        case .failure(let answer): return .failure(answer)
        }
        let (store, now) = (support.store, support.clock.now())
        let result = try await StoreUnavailable.guarding(what, logger: context.logger) { try await record(store, parsed, now) }
        return .success((parsed, result))
    }

    /// The body of a hold or release: its scope and record, or the 400/413 answer.
    static func holdRequest(_ request: Request) async throws -> Result<HoldRequest, AnswerError> {
        var request = request
        guard let body = try await request.collectBody(within: 64 * 1024) else {
            return .failure(AnswerError(JSONResponse.error(.contentTooLarge, "body must be at most 64 KiB")))
        }
        do {
            let parsed = try ActionBody.parse(Array(body.readableBytesView))
            return .success(HoldRequest(scope: HoldScope(kind: parsed.kind, orderId: parsed.orderId),
                                        actor: parsed.actor, reason: parsed.reason))
        } catch {
            return .failure(AnswerError(invalid(error)))
        }
    }

    static func invalid(_ error: EventRejection) -> Response {
        JSONResponse.make(.badRequest, ["error": "invalid request: \(error.field) \(error.rule)", "field": error.field,
                                        "rule": error.rule])
    }

    /// An answer carried as an error (a refused request or body).
    struct AnswerError: Error {
        let response: Response
        init(_ response: Response) { self.response = response }
    }
}

/// The body of an operator action: `{"reason", "actor"}`, and for holds and
/// releases the optional scope `{"kind", "orderId"}`.
struct ActionBody: Sendable {
    var kind: DeliveryKind?
    var orderId: String?
    var reason: String
    var actor: String

    static func parse(_ bytes: [UInt8]) throws(EventRejection) -> ActionBody {
        guard let object = try? JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any] else {
            throw EventRejection(field: "body", rule: "must be a JSON object")
        }
        var kind: DeliveryKind?
        if let value = object["kind"], !(value is NSNull) {
            guard let text = value as? String, let parsed = DeliveryKind(rawValue: text) else {
                throw EventRejection(field: "kind", rule: "must be \"access-data\" or \"admin-notice\"")
            }
            kind = parsed
        }
        var orderId: String?
        if let value = object["orderId"], !(value is NSNull) {
            guard let text = value as? String, !text.isEmpty, text.count <= 200 else {
                throw EventRejection(field: "orderId", rule: "must be a non-empty string of at most 200 characters")
            }
            orderId = text
        }
        return ActionBody(kind: kind, orderId: orderId,
                          reason: try ResendRequest.recordedText(object["reason"] as? String, field: "reason"),
                          actor: try ResendRequest.recordedText(object["actor"] as? String, field: "actor"))
    }
}

/// A hold as the API shows it.
struct HoldView: Encodable {
    var id: Int64
    var kind: DeliveryKind?
    var orderId: String?
    var scope: String
    var actor: String
    var reason: String
    var since: Date

    init(_ hold: Hold) {
        id = hold.id
        kind = hold.scope.kind
        orderId = hold.scope.orderId
        scope = hold.scope.description
        actor = hold.actor
        reason = hold.reason
        since = hold.since
    }
}

struct HoldsAnswer: Encodable {
    var holds: [HoldView]
    var held: Int
}

struct HoldAnswer: Encodable {
    var result: String
    var held: Int
    var hold: HoldView?
}

struct ReleaseAnswer: Encodable {
    var result: String
    var released: Int
    var lifted: [HoldView]
    var stillHeldBy: [HoldView]
}

extension Result where Failure == OperatorRoutes.AnswerError {
    /// The early answer of a failed step.
    var answer: Response {
        if case .failure(let error) = self { return error.response }
        preconditionFailure("only a failure carries an early answer")
    }
}
