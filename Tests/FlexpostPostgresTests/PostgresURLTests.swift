import FlexpostPostgres
import Foundation
import Testing
@testable import FlexpostTestSupport

/// `FLEXPOST_DATABASE_URL` for PostgreSQL: TLS verified by default off
/// loopback, a private CA through `sslrootcert`, nothing ignored.
@Suite("PostgreSQL URL")
struct PostgresURLTests {
    @Test("TLS: verify-full by default off loopback, prefer on loopback; require verifies; sslrootcert names a private CA")
    func tlsModes() throws {
        #expect(try PostgresURL("postgres://u:p@db.example/q").tls == .verifyFull)
        #expect(try PostgresURL("postgres://u:p@127.relay.example/q").tls == .verifyFull, "a name, not loopback")
        #expect(try PostgresURL("postgres://u:p@127.0.0.1/q").tls == .prefer)
        #expect(try PostgresURL("postgres://u:p@localhost:6543/q").tls == .prefer)
        #expect(try PostgresURL("postgres://u:p@db.example/q?sslmode=require").tls == .verifyFull)
        #expect(try PostgresURL("postgres://u:p@db.example/q?sslmode=verify-ca").tls == .verifyCA)
        #expect(try PostgresURL("postgres://u:p@db.example/q?sslmode=disable").tls == .disable)
        let ca = try TestEnvironment.temporaryDirectory("pg-ca").appendingPathComponent("ca.pem")
        try Data("-----BEGIN CERTIFICATE-----\n".utf8).write(to: ca)
        let withCA = try PostgresURL("postgres://u:p%40x@db.example:6543/q?sslrootcert=\(ca.path)")
        #expect(withCA.rootCertificate == ca.path && withCA.tls == .verifyFull)
        #expect(withCA.port == 6543 && withCA.password == "p@x" && withCA.database == "q")
    }

    @Test("refused with the parameter named, never the password: unknown parameters, bad sslmode, an unreadable sslrootcert")
    func refusals() {
        for (url, words) in [
            ("postgres://u:secretpw@db.example/q?application_name=x", "parameter application_name is not supported"),
            ("postgres://u:secretpw@db.example/q?sslmode=allow", "sslmode must be"),
            ("postgres://u:secretpw@db.example/q?sslmode=disable&sslmode=require", "sslmode twice"),
            ("postgres://u:secretpw@db.example/q?sslrootcert=/nonexistent/ca.pem", "sslrootcert is not a readable file"),
            ("postgres://u:secretpw@db.example/", "names no database"),
        ] {
            do {
                _ = try PostgresURL(url)
                Issue.record("accepted: \(url)")
            } catch {
                #expect(error.description.contains(words), "\(url): \(error.description)")
                #expect(!error.description.contains("secretpw"))
            }
        }
    }

    @Test("commands: an unknown parameter is a configuration error (exit 2); sslmode=require to a server without TLS fails instead of falling back to plain text")
    func noDowngrade() async throws {
        let dir = try TestEnvironment.temporaryDirectory("pg-url")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_DATABASE_URL"] = "postgres://postgres@127.0.0.1:5432/postgres?connect_timeout=3"
        let unknown = try await flexpost(["list"], environment: env, directory: dir)
        #expect(unknown.status == 2 && unknown.stderr.contains("connect_timeout"), "\(unknown.stderr)")
        guard let base = TestStores.postgresURL else { return }
        env["FLEXPOST_DATABASE_URL"] = base.replacingOccurrences(of: "sslmode=disable", with: "sslmode=require")
        let refused = try await flexpost(["list"], environment: env, directory: dir)
        #expect(refused.status == 1, "the test server speaks no TLS: \(refused.stdout)\(refused.stderr)")
        env["FLEXPOST_DATABASE_URL"] = base.replacingOccurrences(of: "?sslmode=disable", with: "")
        let loopback = try await flexpost(["list"], environment: env, directory: dir)
        #expect(loopback.status == 0, "prefer on loopback: \(loopback.stderr)")
    }
}
