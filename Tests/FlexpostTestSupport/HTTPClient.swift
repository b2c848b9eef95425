import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal HTTP client for the tests (URLSession, completion-handler API).
enum HTTPClient {
    /// URLSession's default of a few connections per host queued the tests'
    /// concurrent requests behind each other (a 10 s store deadline then
    /// looked like 20 s).
    static let session = URLSession(configuration: configuration)

    /// No cookie jar: each test says which cookie it sends. (A shared jar kept
    /// the `Set-Cookie` of one test's console and sent it along with another
    /// test's own cookie, port or not.)
    static var configuration: URLSessionConfiguration {
        let configuration = URLSessionConfiguration.default
        configuration.httpMaximumConnectionsPerHost = 64
        configuration.httpCookieStorage = nil
        configuration.httpShouldSetCookies = false
        configuration.httpCookieAcceptPolicy = .never
        configuration.urlCache = nil
        return configuration
    }

    /// The same, answering a redirect itself (its status and headers, e.g. a `Set-Cookie`).
    static let unredirected = URLSession(configuration: configuration, delegate: NoRedirects(), delegateQueue: nil)

    final class NoRedirects: NSObject, URLSessionTaskDelegate, Sendable {
        func urlSession(_ session: URLSession, task: URLSessionTask, willPerformHTTPRedirection response: HTTPURLResponse,
                        newRequest request: URLRequest, completionHandler: @escaping @Sendable (URLRequest?) -> Void) {
            completionHandler(nil)
        }
    }

    struct Answer {
        var status: Int
        var body: String
        /// Header names lower-cased.
        var headers: [String: String] = [:]
    }

    /// - Parameter chunked: send the body as a stream (`Transfer-Encoding: chunked`, no length).
    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil,
                     chunked: Bool = false, timeout: Double = 10, followRedirects: Bool = true) async throws -> Answer {
        guard let target = URL(string: url) else { throw TestFailure("not a URL: \(url)") }
        var request = URLRequest(url: target)
        request.httpMethod = method
        if chunked, let body {
            request.httpBodyStream = InputStream(data: body)
        } else {
            request.httpBody = body
        }
        request.timeoutInterval = timeout
        // Each test says which cookie it sends: none is kept from an earlier answer.
        request.httpShouldHandleCookies = false
        for (name, value) in headers { request.setValue(value, forHTTPHeaderField: name) }
        return try await withCheckedThrowingContinuation { continuation in
            (followRedirects ? Self.session : Self.unredirected).dataTask(with: request) { data, response, error in
                if let error {
                    continuation.resume(throwing: error)
                } else {
                    let http = response as? HTTPURLResponse
                    var headers: [String: String] = [:]
                    for (name, value) in http?.allHeaderFields ?? [:] {
                        headers["\(name)".lowercased()] = "\(value)"
                    }
                    continuation.resume(returning: Answer(
                        status: http?.statusCode ?? 0, body: String(decoding: data ?? Data(), as: UTF8.self), headers: headers))
                }
            }.resume()
        }
    }
}

/// `flexpost serve` on a free loopback port, ready when /healthz answers.
final class ServeProcess: @unchecked Sendable {
    // @unchecked Sendable: immutable after init; the child is only signalled.
    let child: ChildProcess
    let base: String

    /// - Parameter launcher: a command that execs `flexpost serve` (appended as
    ///   its last arguments) in a changed process context, e.g. under `prlimit`.
    init(environment: [String: String], directory: URL, launcher: [String] = []) async throws {
        let port = TestEnvironment.freePort()
        var env = environment
        env["FLEXPOST_HTTP_ADDRESS"] = "127.0.0.1:\(port)"
        base = "http://127.0.0.1:\(port)"
        let command = launcher + [TestEnvironment.binary, "serve"]
        child = try ChildProcess(executable: command[0], arguments: Array(command.dropFirst()), environment: env,
                                 directory: directory)
        for _ in 0..<200 {
            if let answer = try? await HTTPClient.send("GET", base + "/healthz"), answer.status == 200 { return }
            try await Task.sleep(for: .milliseconds(50))
        }
        throw TestFailure("serve did not come up: \(child.result().stderr)")
    }

    /// Posts an event signed like the order system does.
    func post(_ body: Data, secret: String = TestEnvironment.webhookSecret, timestamp: Date = Date(),
              contentType: String = "application/json", timeout: Double = 10) async throws -> HTTPClient.Answer {
        let id = "msg_\(UUID().uuidString)"
        let ts = Int64(timestamp.timeIntervalSince1970)
        let signature = WebhookSigning.sign(id: id, timestamp: ts, body: Array(body), secret: secret)
        return try await HTTPClient.send("POST", base + "/v1/events", headers: [
            "content-type": contentType, "webhook-id": id, "webhook-timestamp": String(ts), "webhook-signature": signature,
        ], body: body, timeout: timeout)
    }

    func terminate() async -> ProcessResult {
        child.signal(SIGTERM)
        return await child.wait()
    }
}

/// A signed-in console session for tests that post the console's forms
/// without a browser: its cookie, and the CSRF token its forms carry.
struct ConsoleLogin {
    let cookie: [String: String]
    let csrf: String
    static let form = ["content-type": "application/x-www-form-urlencoded"]

    static func signIn(_ base: String, token: String) async throws -> ConsoleLogin {
        try await signIn(base, form: "token=\(token)")
    }

    /// SPEC §7: a person of `FLEXPOST_SUPPORT_USERS` signs in.
    static func signIn(_ base: String, name: String, password: String) async throws -> ConsoleLogin {
        let encoded = password.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? password
        return try await signIn(base, form: "name=\(name)&password=\(encoded)")
    }

    static func signIn(_ base: String, form body: String) async throws -> ConsoleLogin {
        let answer = try await HTTPClient.send("POST", base + "/support/login", headers: form,
                                               body: Data(body.utf8), followRedirects: false)
        guard answer.status == 303, let setCookie = answer.headers["set-cookie"],
              let value = setCookie.split(separator: ";").first
        else { throw TestFailure("sign-in: \(answer.status) \(answer.headers) \(answer.body)") }
        let cookie = ["cookie": String(value)]
        let home = try await HTTPClient.send("GET", base + "/support/", headers: cookie)
        guard let range = home.body.range(of: #"name="csrf" value=""#),
              let end = home.body[range.upperBound...].firstIndex(of: "\"")
        else { throw TestFailure("no CSRF token on the console's first page: \(home.body)") }
        return ConsoleLogin(cookie: cookie, csrf: String(home.body[range.upperBound..<end]))
    }

    /// Headers for one of the console's form posts.
    var postHeaders: [String: String] { Self.form.merging(cookie) { $1 } }
}
