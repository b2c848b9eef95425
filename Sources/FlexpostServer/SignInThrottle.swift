import FlexpostCore
import Foundation
import Logging
import Metrics
import Synchronization

/// Wrong support tokens, on the console's sign-in and on the API's bearer
/// header: 5 within 15 minutes from one client address are answered 429 with
/// Retry-After until the window ends (even with the right token then). Each
/// failure is logged (route and address, never what was typed) and counted
/// in `flexpost_support_auth_failures_total{route}`. Per process.
public final class SignInThrottle: Sendable {
    private let window: Mutex<FailureWindow>
    private let clock: any WallClock

    public init(clock: any WallClock, window: FailureWindow = FailureWindow()) {
        self.clock = clock
        self.window = Mutex(window)
    }

    /// Seconds to wait before this client (or anyone, for this name) may try again; nil: it may now.
    func retryAfter(client: String, name: String? = nil) -> Int? {
        let now = clock.now()
        return window.withLock { $0.retryAfter(Self.keys(client, name), at: now) }.map { max(1, Int($0.rounded(.up))) }
    }

    /// A failure, counted for the address and (SPEC §7) for the name tried.
    func failed(client: String, name: String? = nil, route: String, logger: Logger) {
        let now = clock.now()
        window.withLock { $0.record(Self.keys(client, name), at: now) }
        Counter(label: "flexpost_support_auth_failures_total", dimensions: [("route", route)]).increment()
        var metadata: Logger.Metadata = ["client.address": "\(client)", "auth.route": "\(route)"]
        if let name { metadata["support.name"] = "\(name.prefix(64))" }
        logger.warning("support sign-in failed", metadata: metadata)
    }

    static func keys(_ client: String, _ name: String?) -> [String] {
        ["address:" + client] + (name.map { ["name:" + $0] } ?? [])
    }
}
