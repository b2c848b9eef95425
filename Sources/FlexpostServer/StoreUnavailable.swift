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

    /// Runs a store call for a request and answers any failure, a
    /// ``StoreTimeout`` of the ``DeadlineStore`` the routes are given
    /// included, as ``StoreUnavailable``, logged with its cause.
    public static func guarding<T: Sendable>(
        _ operation: String, logger: Logger, _ body: () async throws -> T
    ) async throws -> T {
        do {
            return try await body()
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
