import HTTPTypes
import Hummingbird

/// A path of the API asked with a method it does not take: `405` with
/// `Allow`, as HTTP says, instead of the router's bare `404` (which reads as
/// "no such order" or "wrong URL" to whoever is debugging a client).
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

    public static func register(on router: Router<BasicRequestContext>) {
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
    }
}
