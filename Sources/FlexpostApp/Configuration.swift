import FlexpostCore
import FlexpostSMTP
import Foundation

/// A configuration problem found at start, before any work (exit status 2).
public struct ConfigurationError: Error, CustomStringConvertible, Sendable {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// Everything flexpost reads from its environment (SPEC §4), parsed and
/// checked once at start. Holds secrets only as ``Secret``.
public struct Configuration: Sendable {
    public enum Database: Sendable, Equatable {
        case sqlite(path: String)
        case postgres(url: String)

        /// "SQLite" or "PostgreSQL", for messages.
        public var storeName: String {
            switch self {
            case .sqlite: "SQLite"
            case .postgres: "PostgreSQL"
            }
        }
    }

    public var database: Database
    /// nil: write messages into ``outboxDirectory``.
    public var smtp: SMTPConfiguration?
    /// How many SMTP connections one process keeps to the relay (`FLEXPOST_SMTP_CONNECTIONS`).
    public var smtpConnections: Int
    public var outboxDirectory: String
    public var sender: Contact
    /// SPEC §7: `FLEXPOST_SUPPORT_USERS`, the file of the support team's people.
    public var supportUsersFile: String?
    /// SPEC §6: `FLEXPOST_BOUNCE_ADDRESS`, the base of each delivery's VERP envelope sender.
    public var bounceAddress: EmailAddress?
    /// SPEC §6: `FLEXPOST_BOUNCE_MAILBOX` and its login, polled by `serve` every `bouncePoll`.
    public var bounceMailbox: IMAPConfiguration?
    public var bouncePoll: TimeInterval
    /// SPEC §6: `FLEXPOST_EVENTS_URL` and `FLEXPOST_EVENTS_SECRET`, where delivery events go.
    public var events: EventsOut?
    public var webhookSecret: Secret?
    public var supportToken: Secret?
    public var encryptionKey: Secret?
    public var keyFile: String
    public var timeZone: TimeZone
    public var sendAt: LocalTime
    public var retentionDays: Int
    /// SPEC §8: an order's personal data is erased this many days after its last delivery ended.
    public var personalDataDays: Int
    public var resendLimit: Int
    public var logFormat: String
    public var httpHost: String
    public var httpPort: Int
    /// How long an HTTP connection may send nothing (a half-sent request, a
    /// stalled body, an idle keep-alive) before it is closed (`FLEXPOST_HTTP_IDLE_TIMEOUT`).
    public var httpIdleTimeout: TimeInterval
    public var templatesDirectory: String
    public var leaseSeconds: Int
    public var retryLifetime: TimeInterval

    /// SPEC §6 delivery events out: the order system's endpoint and the signing secret.
    public struct EventsOut: Sendable {
        public var url: String
        public var signer: WebhookSigner
    }

    public static func fromEnvironment(_ env: [String: String] = ProcessInfo.processInfo.environment) throws(ConfigurationError)
        -> Configuration
    {
        func value(_ name: String) -> String? {
            guard let v = env[name]?.trimmingCharacters(in: .whitespaces), !v.isEmpty else { return nil }
            return v
        }
        func integer(_ name: String, default fallback: Int, range: ClosedRange<Int>) throws(ConfigurationError) -> Int {
            guard let text = value(name) else { return fallback }
            guard let n = Int(text), range.contains(n) else {
                throw ConfigurationError("\(name) must be a whole number from \(range.lowerBound) to \(range.upperBound)")
            }
            return n
        }

        let databaseURL = value("FLEXPOST_DATABASE_URL") ?? "sqlite:queue/flexpost.sqlite"
        let database: Database
        if databaseURL.hasPrefix("sqlite:") {
            let path = String(databaseURL.dropFirst("sqlite:".count))
            guard !path.isEmpty else { throw ConfigurationError("FLEXPOST_DATABASE_URL: sqlite: needs a file path") }
            database = .sqlite(path: path)
        } else if databaseURL.hasPrefix("postgres://") || databaseURL.hasPrefix("postgresql://") {
            database = .postgres(url: databaseURL)
        } else {
            throw ConfigurationError("FLEXPOST_DATABASE_URL must start with sqlite: or postgres://")
        }

        let senderText = value("FLEXPOST_MAIL_FROM") ?? "CompanyFlex <noreply@companyflex.example>"
        guard let sender = Self.parseMailbox(senderText) else {
            throw ConfigurationError("FLEXPOST_MAIL_FROM must be an address or \"Name <address>\"")
        }

        var bounceAddress: EmailAddress?
        if let text = value("FLEXPOST_BOUNCE_ADDRESS") {
            guard let address = try? EmailAddress(validating: text), !text.contains("+"),
                  text.split(separator: "@")[0].utf8.count <= 20
            else {
                throw ConfigurationError(
                    "FLEXPOST_BOUNCE_ADDRESS must be a plain address (no +, a local part of at most 20 characters), e.g. bounces@companyflex.example")
            }
            bounceAddress = address
        }

        let bounceMailbox = try Self.parseBounceMailbox(
            url: value("FLEXPOST_BOUNCE_MAILBOX"), user: value("FLEXPOST_BOUNCE_USER"),
            password: value("FLEXPOST_BOUNCE_PASSWORD").map(Secret.init), caFile: value("FLEXPOST_BOUNCE_CA_FILE"))
        guard let bouncePoll = Self.parseDuration(value("FLEXPOST_BOUNCE_POLL") ?? "60s"), (1...3600).contains(bouncePoll) else {
            throw ConfigurationError("FLEXPOST_BOUNCE_POLL must be a duration from 1s to 1h, e.g. 60s")
        }
        let events = try Self.parseEvents(url: value("FLEXPOST_EVENTS_URL"), secret: value("FLEXPOST_EVENTS_SECRET").map(Secret.init))

        let password = value("FLEXPOST_SMTP_PASSWORD").map(Secret.init)
        let lease = try integer("FLEXPOST_LEASE_SECONDS", default: 60, range: 10...86_400)
        var smtp = try value("FLEXPOST_SMTP_URL").map { (url: String) throws(ConfigurationError) in
            try Self.parseSMTP(url: url, username: value("FLEXPOST_SMTP_USER"), password: password,
                               caFile: value("FLEXPOST_SMTP_CA_FILE"))
        }
        switch value("FLEXPOST_SMTP_TLS_VERIFY") ?? "on" {
        case "on": break
        case "off":
            guard let relay = smtp, let host = URLComponents(string: relay.url)?.host, Loopback.contains(host: host) else {
                throw ConfigurationError(
                    "FLEXPOST_SMTP_TLS_VERIFY=off is refused: certificate verification may only be switched off for a loopback relay")
            }
            smtp?.verifyPeer = false
        default: throw ConfigurationError("FLEXPOST_SMTP_TLS_VERIFY must be on or off")
        }
        // Every SMTP attempt is bounded well below the lease (a third of it, at most 30 s).
        let attemptBound = max(3, min(30, lease / 3))
        smtp?.transactionTimeout = attemptBound
        smtp?.connectTimeout = min(10, attemptBound)
        if smtp == nil && (value("FLEXPOST_SMTP_USER") != nil || password != nil) {
            throw ConfigurationError("FLEXPOST_SMTP_USER/PASSWORD are set but FLEXPOST_SMTP_URL is not")
        }

        let zoneName = value("FLEXPOST_TIMEZONE") ?? "Europe/Berlin"
        guard let timeZone = TimeZone(identifier: zoneName) else {
            throw ConfigurationError("FLEXPOST_TIMEZONE is not a known time zone: \(zoneName)")
        }
        guard let sendAt = LocalTime(value("FLEXPOST_SEND_AT") ?? "08:00") else {
            throw ConfigurationError("FLEXPOST_SEND_AT must be a local time HH:MM")
        }
        let logFormat = value("FLEXPOST_LOG_FORMAT") ?? "text"
        guard ["text", "json"].contains(logFormat) else { throw ConfigurationError("FLEXPOST_LOG_FORMAT must be text or json") }

        let address = value("FLEXPOST_HTTP_ADDRESS") ?? "127.0.0.1:8080"
        guard let colon = address.lastIndex(of: ":"), let port = Int(address[address.index(after: colon)...]),
            (0...65535).contains(port), colon != address.startIndex
        else { throw ConfigurationError("FLEXPOST_HTTP_ADDRESS must be host:port") }
        var host = String(address[..<colon])
        if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }

        guard let idleTimeout = Self.parseDuration(value("FLEXPOST_HTTP_IDLE_TIMEOUT") ?? "30s"), (1...3600).contains(idleTimeout)
        else { throw ConfigurationError("FLEXPOST_HTTP_IDLE_TIMEOUT must be a duration from 1s to 1h, e.g. 30s") }

        guard let lifetime = Self.parseDuration(value("FLEXPOST_RETRY_LIFETIME") ?? "3d"),
            Self.retryLifetimes.contains(lifetime)
        else {
            throw ConfigurationError(
                "FLEXPOST_RETRY_LIFETIME must be a duration from 1m to 30d, in whole days, hours, minutes or seconds: 3d, 12h, 30m, 90s")
        }

        return Configuration(
            database: database, smtp: smtp,
            smtpConnections: try integer("FLEXPOST_SMTP_CONNECTIONS", default: Self.defaultSMTPConnections, range: 1...64),
            outboxDirectory: "queue/outbox", sender: sender, supportUsersFile: value("FLEXPOST_SUPPORT_USERS"),
            bounceAddress: bounceAddress, bounceMailbox: bounceMailbox, bouncePoll: bouncePoll, events: events,
            webhookSecret: value("FLEXPOST_WEBHOOK_SECRET").map(Secret.init),
            supportToken: value("FLEXPOST_SUPPORT_TOKEN").map(Secret.init),
            encryptionKey: value("FLEXPOST_ENCRYPTION_KEY").map(Secret.init),
            keyFile: Self.keyFile(beside: database), timeZone: timeZone, sendAt: sendAt,
            retentionDays: try integer("FLEXPOST_RETENTION_DAYS", default: 30, range: 0...3650),
            personalDataDays: try integer("FLEXPOST_PERSONAL_DATA_DAYS", default: 365, range: 1...3650),
            resendLimit: try integer("FLEXPOST_RESEND_LIMIT", default: 5, range: 0...1000),
            logFormat: logFormat, httpHost: host, httpPort: port, httpIdleTimeout: idleTimeout,
            templatesDirectory: value("FLEXPOST_TEMPLATES") ?? "templates",
            leaseSeconds: lease, retryLifetime: lifetime)
    }

    /// Connections to the relay: on two cores over loopback the drain gained up
    /// to 32 (docs/benchmarks.md). Over a real network every connection waits
    /// out five round trips per message, so more connections help more there.
    /// Postfix uses up to 20 per destination and accepts 50 per client by
    /// default. A crash can duplicate at most one message per connection:
    /// lower this where that matters more than speed.
    public static let defaultSMTPConnections = 32
}

