import FlexpostCore

/// How flexpost reaches its SMTP relay (SPEC §4 `FLEXPOST_SMTP_*`).
public struct SMTPConfiguration: Sendable {
    /// Transport security.
    public enum Security: Sendable, Equatable {
        /// `smtps://`: TLS from the first byte.
        case implicitTLS
        /// `smtp://` with STARTTLS required: never falls back to plain text.
        case requireSTARTTLS
        /// `smtp://` to a loopback relay: STARTTLS if offered, plain otherwise.
        case opportunistic
    }

    /// `smtp://host:port` or `smtps://host:port`, no path.
    public var url: String
    public var security: Security
    public var username: String?
    public var password: Secret?
    /// PEM file of a private CA; nil: the system trust store.
    public var caFile: String?
    /// Certificate and host-name verification; only ever off for a loopback relay.
    public var verifyPeer: Bool = true
    /// The name flexpost greets with (EHLO).
    public var heloName: String
    /// Bound on connecting, greeting, EHLO, STARTTLS and AUTH.
    public var connectTimeout: Int
    /// Bound on one whole message transaction, well below the lease.
    public var transactionTimeout: Int

    public init(url: String, security: Security, username: String? = nil, password: Secret? = nil,
                caFile: String? = nil, heloName: String = "localhost", connectTimeout: Int = 10,
                transactionTimeout: Int = 30) {
        self.url = url
        self.security = security
        self.username = username
        self.password = password
        self.caFile = caFile
        self.heloName = heloName
        self.connectTimeout = connectTimeout
        self.transactionTimeout = transactionTimeout
    }
}
