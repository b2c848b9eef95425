import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird
import Logging

/// `POST /v1/events`: the order system's signed webhooks (SPEC §4).
/// The body is limited before it is read in full, and its signature is
/// verified over the raw bytes before it is parsed.
public struct EventRoutes: Sendable {
    let intake: any EventIntake
    let verifier: WebhookVerifier
    let clock: any WallClock

    public init(intake: any EventIntake, verifier: WebhookVerifier, clock: any WallClock) {
        self.intake = intake
        self.verifier = verifier
        self.clock = clock
    }

    // Standard Webhooks headers, named once (a name is checked and lower-cased when made).
    static let webhookID = HTTPField.Name("webhook-id")!
    static let webhookTimestamp = HTTPField.Name("webhook-timestamp")!
    static let webhookSignature = HTTPField.Name("webhook-signature")!

    public func register(on router: Router<FlexpostRequestContext>) {
        router.post("/v1/events") { request, context in
            try await self.receive(request, context: context)
        }
    }

    func receive(_ request: Request, context: FlexpostRequestContext) async throws -> Response {
        var request = request
        let contentType = request.headers[.contentType]?.lowercased() ?? ""
        let mediaType = contentType.split(separator: ";").first.map { $0.trimmingSpaces() } ?? ""
        guard mediaType == "application/json" || (mediaType.hasPrefix("application/") && mediaType.hasSuffix("+json")) else {
            return JSONResponse.error(.unsupportedMediaType, "content type must be application/json")
        }
        if let length = request.headers[.contentLength].flatMap(Int.init), length > EventDecoder.maxBodySize {
            return JSONResponse.error(.contentTooLarge, "body must be at most 1 MiB")
        }
        guard let body = try await request.collectBody(within: EventDecoder.maxBodySize) else {
            return JSONResponse.error(.contentTooLarge, "body must be at most 1 MiB")
        }
        let bytes = Array(body.readableBytesView)
        do {
            try verifier.verify(
                id: request.headers[Self.webhookID],
                timestamp: request.headers[Self.webhookTimestamp],
                signatures: request.headers[Self.webhookSignature],
                body: bytes, now: clock.now())
        } catch {
            context.logger.warning("webhook refused", metadata: ["webhook.failure": "\(error)"])
            return JSONResponse.error(.unauthorized, "invalid or stale webhook signature")
        }
        let intake = self.intake
        // The intake's store is a DeadlineStore (StoreDeadlines.requests).
        let result = try await StoreUnavailable.guarding("an intake", logger: context.logger) {
            try await intake.submit(bytes)
        }
        context.logger.info("event received", metadata: ["event.result": "\(result.line)"])
        switch result {
        case .recorded(let outcome, let type, let key):
            let status: HTTPResponse.Status =
                switch outcome {
                case .accepted: .accepted
                case .duplicate: .ok
                case .conflict: .conflict
                }
            var fields = ["result": outcome.rawValue, "type": type.rawValue, "key": key]
            if outcome == .conflict {
                fields["error"] = "an event with this key and different content is already stored"
            }
            return JSONResponse.make(status, fields)
        case .rejected(let rejection, _, _):
            let status: HTTPResponse.Status = rejection.field == "body" && rejection.rule.contains("1 MiB")
                ? .contentTooLarge : .badRequest
            return JSONResponse.make(status, [
                "error": "invalid event: \(rejection.field) \(rejection.rule)",
                "field": rejection.field, "rule": rejection.rule,
            ])
        }
    }
}
