import HTTPTypes
import Hummingbird

/// A path of the API asked with a method it does not take: `405` with
/// `Allow`, as HTTP says, instead of the router's bare `404` (which reads as
/// "no such order" or "wrong URL" to whoever is debugging a client); and a
/// path that is no route at all: `404` with a JSON error naming it, instead
/// of an empty body.
public enum MethodNotAllowed {
    /// The API's paths and the methods each takes (the support console's HTML
    /// pages are left to the router).
    static let routes: [(path: String, allowed: [HTTPRequest.Method])] = [
        ("/v1/events", [.post]),
        ("/v1/orders/{orderId}", [.get]),
        ("/v1/orders/{orderId}/resend", [.post]),
        ("/healthz", [.get]),
        ("/metrics", [.get]),
    ]

    static let methods: [HTTPRequest.Method] = [.get, .post, .put, .patch, .delete]

    public static func register(on router: Router<FlexpostRequestContext>) {
        for (path, allowed) in routes {
            let allow = allowed.map(\.rawValue).joined(separator: ", ")
            for method in methods where !allowed.contains(method) {
                router.on(RouterPath(path), method: method) { _, _ -> Response in
                    var response = JSONResponse.error(.methodNotAllowed, "\(method.rawValue) is not allowed here: use \(allow)")
                    response.headers[.allow] = allow
                    return response
                }
            }
        }
        // Added after every route: Hummingbird applies a router middleware only to
        // routes added later and to its not-found responder, so this one wraps
        // the not-found answer alone and costs the routes nothing.
        router.add(middleware: UnknownPath())
    }
}

/// The router's `404` for a path it has no route for, as JSON naming the
/// method and path (the query left out: it may carry anything).
struct UnknownPath: RouterMiddleware {
    typealias Context = FlexpostRequestContext

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response)
        async throws -> Response
    {
        do {
            return try await next(request, context)
        } catch let error as HTTPError where error.status == .notFound {
            let path = String(request.uri.path.unicodeScalars.prefix(200).map { $0.isASCII && $0.value >= 0x20 ? Character($0) : "?" })
            return JSONResponse.error(.notFound, "no such route: \(request.method.rawValue) \(path)")
        }
    }
}
