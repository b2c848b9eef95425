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

    /// Measured (docs/benchmarks.md): on 2 cores over loopback a drain of 10,000
    /// took 11.1 / 7.0 / 5.2 / 4.6 / 3.9 s with 1 / 2 / 4 / 8 / 16 connections;
    /// once a message cost less CPU, 32 beat 16 again (20,000 deliveries, three
    /// interleaved runs each: 4,650 against 4,084 msg/s on average). Over a real
    /// network every connection waits out five round trips per message, so more
    /// connections help more there. Postfix uses up to 20 per destination and
    /// accepts 50 per client by default. A crash can duplicate at most one
    /// message per connection: lower this where that matters more than speed.
    public static let defaultSMTPConnections = 32

    /// `Name <address>` or a bare address.
    static func parseMailbox(_ text: String) -> Contact? {
        if let open = text.lastIndex(of: "<"), text.hasSuffix(">") {
            let name = text[..<open].trimmingCharacters(in: .whitespaces)
                .trimmingCharacters(in: CharacterSet(charactersIn: "\""))
            let address = String(text[text.index(after: open)..<text.index(before: text.endIndex)])
            guard let email = try? EmailAddress(validating: address),
                (try? HeaderEncoding.checkNoControls(name, header: "From")) != nil
            else { return nil }
            return Contact(name: name, email: email)
        }
        return (try? EmailAddress(validating: text)).map { Contact(name: "", email: $0) }
    }

    static func parseSMTP(url text: String, username: String?, password: Secret?, caFile: String?)
        throws(ConfigurationError) -> SMTPConfiguration
    {
        guard let components = URLComponents(string: text), let scheme = components.scheme?.lowercased(),
            scheme == "smtp" || scheme == "smtps", let host = components.host, !host.isEmpty
        else { throw ConfigurationError("FLEXPOST_SMTP_URL must be smtp://host:port or smtps://host:port") }
        guard components.user == nil, components.password == nil else {
            throw ConfigurationError("FLEXPOST_SMTP_URL must not hold credentials: use FLEXPOST_SMTP_USER/PASSWORD")
        }
        guard components.path.isEmpty || components.path == "/", components.query == nil else {
            throw ConfigurationError("FLEXPOST_SMTP_URL must have no path or query")
        }
        let port = components.port ?? (scheme == "smtps" ? 465 : 25)
        let loopback = Loopback.contains(host: host)
        let security: SMTPConfiguration.Security =
            scheme == "smtps" ? .implicitTLS : (loopback ? .opportunistic : .requireSTARTTLS)
        if (username == nil) != (password == nil) {
            throw ConfigurationError("FLEXPOST_SMTP_USER and FLEXPOST_SMTP_PASSWORD go together")
        }
        if let caFile, !FileManager.default.isReadableFile(atPath: caFile) {
            throw ConfigurationError("FLEXPOST_SMTP_CA_FILE is not a readable file: \(caFile)")
        }
        let hostForURL = host.contains(":") && !host.hasPrefix("[") ? "[\(host)]" : host
        return SMTPConfiguration(
            url: "\(scheme)://\(hostForURL):\(port)", security: security, username: username, password: password,
            caFile: caFile, heloName: Self.heloName())
    }


    static func heloName() -> String {
        let name = ProcessInfo.processInfo.hostName
        let valid = !name.isEmpty && name.utf8.allSatisfy {
            ($0 >= 0x30 && $0 <= 0x39) || ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || $0 == 0x2D || $0 == 0x2E
        }
        return valid ? name : "localhost"
    }

    /// Where the generated key lives when `FLEXPOST_ENCRYPTION_KEY` is unset:
    /// beside the SQLite file, so that every process on that file finds the
    /// same key whatever its working directory (`queue/flexpost.key` on the
    /// defaults). PostgreSQL: `queue/flexpost.key` of the working directory,
    /// one per machine; several machines need FLEXPOST_ENCRYPTION_KEY.
    static func keyFile(beside database: Database) -> String {
        switch database {
        case .sqlite(let path):
            let directory = (path as NSString).deletingLastPathComponent
            return directory.isEmpty ? "flexpost.key" : directory + "/flexpost.key"
        case .postgres: return "queue/flexpost.key"
        }
    }

    /// How long deliveries may keep failing before they are `dead`: a minute
    /// at least, 30 days at most (Postfix's `maximal_queue_lifetime` is 5 days).
    static let retryLifetimes: ClosedRange<TimeInterval> = 60...(30 * 86_400)

    /// `3d`, `12h`, `30m`, `90s` or plain seconds: whole numbers only (no
    /// `inf`, no `1e308d`), at most six digits.
    static func parseDuration(_ text: String) -> TimeInterval? {
        let units: [Character: Double] = ["d": 86_400, "h": 3600, "m": 60, "s": 1]
        var digits = Substring(text)
        var unit = 1.0
        if let last = text.last, let factor = units[last] {
            digits = text.dropLast()
            unit = factor
        }
        guard (1...6).contains(digits.count), digits.utf8.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }),
            let value = Double(digits)
        else { return nil }
        return value * unit
    }

    /// `FLEXPOST_BOUNCE_MAILBOX`: `imaps://host[:port]/MAILBOX`, `imap://` only
    /// to a loopback server; user and password are required with it.
    static func parseBounceMailbox(url: String?, user: String?, password: Secret?, caFile: String?)
        throws(ConfigurationError) -> IMAPConfiguration?
    {
        guard let url else {
            if user != nil || password != nil {
                throw ConfigurationError("FLEXPOST_BOUNCE_USER/PASSWORD are set but FLEXPOST_BOUNCE_MAILBOX is not")
            }
            return nil
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host,
              !host.isEmpty, parts.user == nil, parts.password == nil, parts.path.count > 1,
              scheme == "imaps" || (scheme == "imap" && Loopback.contains(host: host))
        else {
            throw ConfigurationError(
                "FLEXPOST_BOUNCE_MAILBOX must be imaps://host/MAILBOX (imap:// only to a loopback server), e.g. imaps://imap.companyflex.example/INBOX, without user or password")
        }
        guard let user, let password else {
            throw ConfigurationError("FLEXPOST_BOUNCE_MAILBOX is set: FLEXPOST_BOUNCE_USER and FLEXPOST_BOUNCE_PASSWORD are required")
        }
        return IMAPConfiguration(url: url, username: user, password: password, caFile: caFile)
    }

    /// `FLEXPOST_EVENTS_URL`: https, or http to a loopback address (a local
    /// relay or test); the secret is required with it and only with it.
    static func parseEvents(url: String?, secret: Secret?) throws(ConfigurationError) -> EventsOut? {
        guard let url else {
            if secret != nil { throw ConfigurationError("FLEXPOST_EVENTS_SECRET is set but FLEXPOST_EVENTS_URL is not") }
            return nil
        }
        guard let parts = URLComponents(string: url), let scheme = parts.scheme?.lowercased(), let host = parts.host,
              !host.isEmpty, parts.user == nil, parts.password == nil,
              scheme == "https" || (scheme == "http" && Loopback.contains(host: host))
        else {
            throw ConfigurationError(
                "FLEXPOST_EVENTS_URL must be an https:// URL (http:// only to a loopback address), without user or password")
        }
        guard let secret else { throw ConfigurationError("FLEXPOST_EVENTS_URL is set: FLEXPOST_EVENTS_SECRET (whsec_…) is required") }
        do {
            return EventsOut(url: url, signer: try WebhookSigner(secret: secret))
        } catch {
            throw ConfigurationError(error.description)
        }
    }

    /// Every environment variable flexpost reads: any other `FLEXPOST_…` is
    /// most likely a typo, and is warned about at start.
    public static let settings: Set<String> = [
        "FLEXPOST_BOUNCE_ADDRESS", "FLEXPOST_BOUNCE_CA_FILE", "FLEXPOST_BOUNCE_MAILBOX", "FLEXPOST_BOUNCE_PASSWORD",
        "FLEXPOST_BOUNCE_POLL", "FLEXPOST_BOUNCE_USER", "FLEXPOST_DATABASE_URL", "FLEXPOST_ENCRYPTION_KEY", "FLEXPOST_EVENTS_SECRET", "FLEXPOST_EVENTS_URL",
        "FLEXPOST_HTTP_ADDRESS", "FLEXPOST_HTTP_IDLE_TIMEOUT",
        "FLEXPOST_LEASE_SECONDS",
        "FLEXPOST_LOG_FORMAT", "FLEXPOST_MAIL_FROM", "FLEXPOST_PERSONAL_DATA_DAYS", "FLEXPOST_RESEND_LIMIT",
        "FLEXPOST_RETENTION_DAYS",
        "FLEXPOST_RETRY_LIFETIME", "FLEXPOST_SEND_AT", "FLEXPOST_SMTP_CA_FILE", "FLEXPOST_SMTP_CONNECTIONS",
        "FLEXPOST_SMTP_PASSWORD", "FLEXPOST_SMTP_TLS_VERIFY", "FLEXPOST_SMTP_URL", "FLEXPOST_SMTP_USER",
        "FLEXPOST_SUPPORT_TOKEN", "FLEXPOST_SUPPORT_USERS", "FLEXPOST_TEMPLATES", "FLEXPOST_TIMEZONE", "FLEXPOST_WEBHOOK_SECRET",
    ]

    /// The `FLEXPOST_…` variables in `env` that flexpost does not read, sorted.
    public static func unknownSettings(in env: [String: String]) -> [String] {
        env.keys.filter { $0.hasPrefix("FLEXPOST_") && !settings.contains($0) }.sorted()
    }
}
