@testable import FlexpostApp
@testable import FlexpostEngine
import FlexpostCore
import FlexpostPostgres
import FlexpostStore
import Foundation
import Logging

/// The store implementations the conformance suite runs against.
enum StoreKind: String, CaseIterable, Sendable, CustomTestStringConvertible {
    case sqlite, postgres
    var testDescription: String { rawValue }
}

import Testing

/// Fresh stores for tests: SQLite in a new directory, PostgreSQL in a new
/// database on the server `make test` started (FLEXPOST_TEST_POSTGRES_URL).
enum TestStores {
    static var postgresURL: String? { ProcessInfo.processInfo.environment["FLEXPOST_TEST_POSTGRES_URL"] }

    /// A new, empty database on the test server; its URL.
    static func newPostgresDatabase() async throws -> String {
        guard let base = postgresURL else {
            throw TestFailure("FLEXPOST_TEST_POSTGRES_URL is not set: run the tests with `make test`, which starts PostgreSQL")
        }
        let name = "flexpost_" + UUID().uuidString.prefix(12).lowercased().replacingOccurrences(of: "-", with: "")
        let admin = base.replacingOccurrences(of: "?sslmode=disable", with: "")
        let result = try await ChildProcess(
            executable: "/usr/bin/psql", arguments: [admin, "-q", "-c", "CREATE DATABASE \(name)"],
            environment: ProcessInfo.processInfo.environment, directory: FileManager.default.temporaryDirectory
        ).wait()
        guard result.status == 0 else { throw TestFailure("psql failed: \(result.stderr)") }
        return base.replacingOccurrences(of: "/postgres?", with: "/\(name)?")
    }

    static func make(_ kind: StoreKind, deliveryEvents: Bool = false) async throws -> any QueueStore {
        switch kind {
        case .sqlite:
            let dir = try TestEnvironment.temporaryDirectory("store")
            return try SQLiteQueueStore(path: dir.appendingPathComponent("queue.sqlite").path, deliveryEvents: deliveryEvents)
        case .postgres:
            var logger = Logger(label: "test.postgres")
            logger.logLevel = .error
            return try await PostgresQueueStore.open(url: try await newPostgresDatabase(), logger: logger, deliveryEvents: deliveryEvents)
        }
    }

    /// The configuration pieces the intake needs, with a fixed test key.
    /// A fixed queue fingerprint key for the tests that build an intake without a Runtime.
    static let fingerprintKey = FingerprintKey(Secret(Data(repeating: 7, count: 32).base64EncodedString()))!
    static let sealer = SecretSealer(keyRing: try! EncryptionKeyRing(parsing: Secret(TestEnvironment.encryptionKey)),
                                     fingerprintKey: fingerprintKey)
    static let planner = DeliveryPlanner(
        schedule: AccessDataSchedule(timeZone: TimeZone(identifier: "Europe/Berlin")!, sendAt: LocalTime("08:00")!),
        messageIDDomain: "companyflex.example")

    /// Submits every line (one event each) of `lines` in turn.
    static func submitAll(_ lines: Data, to intake: Intake) async throws {
        for line in lines.split(separator: UInt8(ascii: "\n")) { _ = try await intake.submit(Array(line)) }
    }

    static func intake(_ store: any QueueStore, at: String = "2026-11-30T18:00:00Z",
                       doorbell: DeliveryDoorbell? = nil) -> Intake {
        Intake(store: store, sealer: sealer, planner: planner, clock: FixedClock(RFC3339.parse(at)!), doorbell: doorbell)
    }

    /// A delivery worker with the shipped templates and the test key.
    static func worker(_ store: any QueueStore, transport: any MailTransport, owner: String) throws -> DeliveryWorker {
        DeliveryWorker(
            store: store, transport: transport,
            composer: MailComposer(
                templates: try TemplateDirectory.load(TestEnvironment.templates),
                sender: Contact(name: "CompanyFlex", email: try EmailAddress(validating: "noreply@companyflex.example")),
                timeZone: TimeZone(identifier: "Europe/Berlin")!),
            sealer: sealer, retryPolicy: RetryPolicy(lifetime: 86_400), leaseSeconds: 300, owner: owner,
            logger: Logger(label: "test.\(owner)"))
    }
}

/// A PostgreSQL server of a test's own (Tests/Support/postgres_test_server.sh),
/// for tests that stop, restart or resume it without disturbing the shared one.
struct OwnPostgresServer: Sendable {
    let directory: String
    let port: Int
    var url: String { "postgres://postgres@127.0.0.1:\(port)/postgres?sslmode=disable" }

    static func start(_ name: String) async throws -> OwnPostgresServer {
        let server = OwnPostgresServer(directory: "/tmp/flexpost-pg-\(name)-\(UUID().uuidString.prefix(8))",
                                       port: TestEnvironment.freePort())
        let started = try await server.control("start")
        guard started.status == 0 else { throw TestFailure("PostgreSQL did not start: \(started.stderr)") }
        return server
    }

    /// `start`, `stop`, `restart` or `resume`.
    func control(_ command: String) async throws -> ProcessResult {
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/postgres_test_server.sh").path
        let withPort = command == "start" || command == "resume"
        return try await ChildProcess(executable: "/bin/bash",
                                      arguments: [script, command, directory] + (withPort ? [String(port)] : []),
                                      environment: ProcessInfo.processInfo.environment,
                                      directory: FileManager.default.temporaryDirectory).wait()
    }
}
