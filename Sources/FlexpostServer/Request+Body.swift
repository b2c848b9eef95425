import FlexpostCore
import Hummingbird
import NIOCore

/// How long a request's body may take to arrive, set for every request by
/// ``BodyDeadlineMiddleware`` (`serve`: `FLEXPOST_HTTP_IDLE_TIMEOUT`). The idle
/// timeout alone lets a client that sends a byte now and then hold a
/// connection, and a handler, for as long as it likes.
enum BodyDeadline {
    @TaskLocal static var current: Duration?
}

/// Sets ``BodyDeadline/current`` for the requests it passes on.
public struct BodyDeadlineMiddleware<Context: RequestContext>: RouterMiddleware {
    let deadline: Duration

    public init(_ deadline: Duration) { self.deadline = deadline }

    public func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws
        -> Response
    {
        try await BodyDeadline.$current.withValue(deadline) { try await next(request, context) }
    }
}

/// The body did not arrive within its deadline.
struct BodyTooSlow: HTTPResponseError {
    var status: HTTPResponse.Status { .requestTimeout }
    func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response(status: .requestTimeout, headers: [.contentType: "application/json", .connection: "close"],
                                body: .init(byteBuffer: ByteBuffer(string: #"{"error":"the request body did not arrive in time"}"# + "\n")))
        response.headers[.connection] = "close"
        return response
    }
}

extension Request {
    /// The body, or nil when it is longer than `maxSize`: declared so by its
    /// `Content-Length`, or found so while a chunked body arrives. The routes
    /// answer that with their own JSON error rather than Hummingbird's empty
    /// 413. A body that takes longer than ``BodyDeadline/current`` is answered 408.
    mutating func collectBody(within maxSize: Int) async throws -> ByteBuffer? {
        guard let deadline = BodyDeadline.current else { return try await collect(maxSize) }
        // On the one watchdog of the process: a task group with a sleeping
        // timer per request cost intake at one client about a third of its CPU.
        let request = self
        let seconds = Double(deadline.components.seconds) + Double(deadline.components.attoseconds) / 1e18
        guard let collected = try await withDeadline(seconds, { () async throws -> ByteBuffer? in
            var request = request
            return try await request.collect(maxSize)
        }) else { throw BodyTooSlow() }
        if let collected { self.body = .init(buffer: collected) }
        return collected
    }

    private mutating func collect(_ maxSize: Int) async throws -> ByteBuffer? {
        do {
            return try await collectBody(upTo: maxSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return nil
        }
    }
}
