import FlexpostCore
import FlexpostSMTP
import Foundation

/// How each setting is read and checked (SPEC §4, §6): the parsers of
/// ``Configuration/fromEnvironment(_:)``, and the list of every variable.
extension Configuration {
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
