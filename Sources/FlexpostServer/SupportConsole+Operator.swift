import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

extension SupportConsole {
    /// Operator controls (SPEC §8): hold and release from the first page,
    /// cancel one delivery from the order's page: for an `admin`, or whoever
    /// signs in with the support token when no people are configured.
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
            guard session.role.allows(.cancel) else {
                return try await orderPage(orderId, notice: nil, error: notAllowed(session, .cancel), status: .forbidden,
                                           logger: context.logger)
            }
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
        guard session.role.allows(release ? .release : .hold) else {
            return try await home(error: notAllowed(session, release ? .release : .hold), status: .forbidden, logger: logger)
        }
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
}
