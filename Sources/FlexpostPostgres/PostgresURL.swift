import FlexpostCore
import Foundation
import NIOSSL
import PostgresNIO

/// `FLEXPOST_DATABASE_URL` for PostgreSQL, read strictly:
/// `postgres://user:pass@host:port/db[?sslmode=…][&sslrootcert=FILE]`.
///
/// TLS is verified by default off loopback (`verify-full`: the certificate
/// chain and the host name), so that nobody between flexpost and its
/// database can read or change the queue by answering in plain text; a
/// private CA is given with `sslrootcert`. `require` verifies too (libpq's
/// `require` does not, which would allow exactly that). On loopback the
/// default is `prefer`. Any other parameter is refused rather than ignored.
public struct PostgresURL: Sendable, Equatable {
    public enum TLSMode: String, Sendable, Equatable {
        case disable, prefer
        /// The chain, not the host name.
        case verifyCA = "verify-ca"
        /// The chain and the host name (`require` means the same here).
        case verifyFull = "verify-full"
    }

    public var host: String
    public var port: Int
    public var user: String
    public var password: String?
    public var database: String
    public var tls: TLSMode
    /// A PEM file of the CA that signed the server's certificate; nil: the system's trust store.
    public var rootCertificate: String?

    static let parameters = ["sslmode", "sslrootcert"]

    public init(_ text: String) throws(PostgresQueueStore.URLError) {
        func refuse(_ why: String) -> PostgresQueueStore.URLError { PostgresQueueStore.URLError(description: "FLEXPOST_DATABASE_URL " + why) }
        guard let url = URLComponents(string: text), ["postgres", "postgresql"].contains(url.scheme ?? ""),
            let host = url.host, !host.isEmpty, let user = url.user, !user.isEmpty
        else { throw refuse("must be postgres://user:pass@host:port/database") }
        let database = String(url.path.drop(while: { $0 == "/" }))
        guard !database.isEmpty else { throw refuse("names no database") }
        var values: [String: String] = [:]
        for item in url.queryItems ?? [] {
            guard Self.parameters.contains(item.name) else {
                throw refuse("parameter \(item.name) is not supported (only \(Self.parameters.joined(separator: ", ")))")
            }
            guard values[item.name] == nil else { throw refuse("gives \(item.name) twice") }
            values[item.name] = item.value ?? ""
        }
        let loopback = Loopback.contains(host: host)
        switch values["sslmode"] ?? (loopback ? "prefer" : "verify-full") {
        case "disable": tls = .disable
        case "prefer": tls = .prefer
        case "verify-ca": tls = .verifyCA
        case "require", "verify-full": tls = .verifyFull
        default: throw refuse("sslmode must be disable, prefer, require, verify-ca or verify-full")
        }
        if let file = values["sslrootcert"] {
            guard FileManager.default.isReadableFile(atPath: file) else { throw refuse("sslrootcert is not a readable file: \(file)") }
            guard tls != .disable else { throw refuse("sslrootcert needs TLS, not sslmode=disable") }
            rootCertificate = file
        }
        self.host = host
        self.port = url.port ?? 5432
        self.user = user.removingPercentEncoding ?? user
        self.password = url.password?.removingPercentEncoding
        self.database = database
    }

    /// postgres-nio's client configuration for this URL.
    public var clientConfiguration: PostgresClient.Configuration {
        var settings = TLSConfiguration.makeClientConfiguration()
        if let rootCertificate { settings.trustRoots = .file(rootCertificate) }
        if tls == .verifyCA { settings.certificateVerification = .noHostnameVerification }
        let mode: PostgresClient.Configuration.TLS =
            switch tls {
            case .disable: .disable
            case .prefer: .prefer(settings)
            case .verifyCA, .verifyFull: .require(settings)
            }
        var configuration = PostgresClient.Configuration(
            host: host, port: port, username: user, password: password, database: database, tls: mode)
        configuration.options.maximumConnections = 8
        // The hot statements are prepared once per connection; left to choose,
        // the server planned the intake statement again at every execution
        // (its bind took longer than its execution).
        configuration.options.additionalStartupParameters = [("plan_cache_mode", "force_generic_plan")]
        return configuration
    }
}
