import AsyncHTTPClient
import FlexpostCore
import NIOCore
import NIOHTTP1
import ServiceLifecycle

/// Posts delivery events to `FLEXPOST_EVENTS_URL` (SPEC §6) with
/// async-http-client: one client for the process, no redirects followed (a
/// redirect is an answer that is not 2xx: the event is tried again), a
/// deadline per post. A `Service` so that `serve` shuts the client down after
/// the sender has stopped.
public final class WebhookEventTransport: EventTransport, Service {
    let url: String
    let client: HTTPClient
    let timeout: TimeAmount

    public init(url: String, timeout: TimeAmount = .seconds(10)) {
        self.url = url
        self.timeout = timeout
        var configuration = HTTPClient.Configuration(redirectConfiguration: .disallow)
        configuration.timeout = .init(connect: .seconds(5), read: timeout)
        self.client = HTTPClient(eventLoopGroupProvider: .singleton, configuration: configuration)
    }

    public func post(body: [UInt8], headers: [(name: String, value: String)]) async throws -> Int {
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        for header in headers { request.headers.add(name: header.name, value: header.value) }
        request.headers.add(name: "user-agent", value: "flexpost")
        request.body = .bytes(ByteBuffer(bytes: body))
        let response = try await client.execute(request, timeout: timeout)
        // The answer's body is not needed; read (at most 64 KiB of) it so the connection can be reused.
        _ = try? await response.body.collect(upTo: 64 * 1024)
        return Int(response.status.code)
    }

    /// Waits for shutdown, then closes the client's connections.
    public func run() async throws {
        try? await gracefulShutdown()
        try await shutdown()
    }

    public func shutdown() async throws {
        try await client.shutdown()
    }
}
