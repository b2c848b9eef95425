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

    /// Seconds to wait before this client may try again; nil: it may now.
    func retryAfter(client: String) -> Int? {
        let now = clock.now()
        return window.withLock { $0.retryAfter([Self.key(client)], at: now) }.map { max(1, Int($0.rounded(.up))) }
    }

    func failed(client: String, route: String, logger: Logger) {
        let now = clock.now()
        window.withLock { $0.record([Self.key(client)], at: now) }
        Counter(label: "flexpost_support_auth_failures_total", dimensions: [("route", route)]).increment()
        logger.warning("support sign-in failed", metadata: ["client.address": "\(client)", "auth.route": "\(route)"])
    }

    static func key(_ client: String) -> String { "address:" + client }
}
