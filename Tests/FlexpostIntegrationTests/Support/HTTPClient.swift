import Foundation
#if canImport(FoundationNetworking)
import FoundationNetworking
#endif

/// A minimal HTTP client for the tests (URLSession, completion-handler API).
enum HTTPClient {
    /// URLSession's default of a few connections per host queued the tests'
    /// concurrent requests behind each other (a 10 s store deadline then
    /// looked like 20 s).
    static let session: URLSession = {
        let configuration = URLSessionConfiguration.default
        configuration.httpMaximumConnectionsPerHost = 64
        return URLSession(configuration: configuration)
    }()

    struct Answer {
        var status: Int
        var body: String
        /// Header names lower-cased.
        var headers: [String: String] = [:]
    }

    /// - Parameter chunked: send the body as a stream (`Transfer-Encoding: chunked`, no length).
    static func send(_ method: String, _ url: String, headers: [String: String] = [:], body: Data? = nil,
                     chunked: Bool = false, timeout: Double = 10) async throws -> Answer {
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
            Self.session.dataTask(with: request) { data, response, error in
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
