@testable import FlexpostStore
import Foundation
import GRDB
import Testing
@testable import FlexpostTestSupport

/// Several processes starting together on one SQLite file: a systemd `serve`
/// and a cron `drain` after a deploy, or a first start. Every one must
/// start, whichever opens the file first and whoever applies the migrations.
@Suite("SQLite: concurrent start and upgrade")
struct StartupConcurrencyTests {
    @Test("six processes started at once on a fresh file, or on one of an older schema, all succeed (8 rounds each)",
          arguments: ["fresh", "older schema"])
    func concurrentStart(file: String) async throws {
        for round in 0..<8 {
            let dir = try TestEnvironment.temporaryDirectory("concurrent-start")
            let path = dir.appendingPathComponent("queue/flexpost.sqlite").path
            if file == "older schema" {
                try FileManager.default.createDirectory(at: dir.appendingPathComponent("queue"), withIntermediateDirectories: true)
                let old = try DatabasePool(path: path)
                try SQLiteSchema.migrator.migrate(old, upTo: "v1")
                try old.close()
            }
            var env = TestEnvironment.baseEnvironment()
            env["FLEXPOST_DATABASE_URL"] = "sqlite:" + path
            let environment = env
            let commands = [["list"], ["drain"], ["purge"], ["migrate"], ["list", "--state", "dead"], ["drain"]]
            let results = try await withThrowingTaskGroup(of: (String, ProcessResult).self) { group in
                for command in commands {
                    group.addTask { (command.joined(separator: " "), try await flexpost(command, environment: environment, directory: dir)) }
                }
                var results: [(String, ProcessResult)] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (command, result) in results {
                #expect(result.status == 0, "round \(round), \(file), \(command): \(result.stderr)")
            }
            let check = try DatabaseQueue(path: path)
            let applied = try await check.read { db in try SQLiteSchema.migrator.appliedIdentifiers(db) }
            #expect(applied == Set(SQLiteSchema.migrator.migrations), "round \(round): every migration applied once")
        }
    }
}
