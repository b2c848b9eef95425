import FlexpostCore
import HTTPTypes
import Hummingbird
import Logging

/// The queue store failed, or did not answer in time, while a request was
/// being answered: `503` with `Retry-After`, never a hung connection.
///
/// Without a deadline a request waits as long as the store's driver does: on
/// PostgreSQL, a request made while the server is down waited for the
/// connection pool's circuit breaker (about a minute), longer than a webhook
/// sender waits for its answer. Nothing is acknowledged that is not stored: a
/// store call abandoned at its deadline may still commit later, and the
/// sender's retry is then answered as a duplicate.
public struct StoreUnavailable: HTTPResponseError {
    /// What the request asked of the store ("an intake", "an order read").
    public let operation: String

    /// When the client should try again.
    public static let retryAfterSeconds = 10

    public var status: HTTPResponse.Status { .serviceUnavailable }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = JSONResponse.error(.serviceUnavailable, "the queue store is unavailable: retry later")
        response.headers[.retryAfter] = String(Self.retryAfterSeconds)
        return response
    }

    /// Runs a store call for a request: bounded by `deadline` (nil: the call
    /// bounds itself, as both stores' intake does without a task of its own),
    /// and any failure logged with its cause and answered as ``StoreUnavailable``.
    public static func guarding<T: Sendable>(
        _ operation: String, logger: Logger, deadline: Double? = StoreTimeout.requestSeconds,
        _ body: @escaping @Sendable () async throws -> T
    ) async throws -> T {
        do {
            guard let deadline else { return try await body() }
            return try await withStoreDeadline(deadline, operation, body)
        } catch is CancellationError {
            throw CancellationError()
        } catch {
            // Store errors carry no bound values (GRDB hides statement arguments,
            // PSQLError's description is generic): no secret reaches this line.
            logger.error("queue store unavailable", metadata: ["store.operation": "\(operation)", "error": "\(error)"])
            throw StoreUnavailable(operation: operation)
        }
    }
}
