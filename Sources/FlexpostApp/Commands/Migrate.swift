import ArgumentParser
import FlexpostCore
import FlexpostPostgres

/// `flexpost migrate`: applies the store's schema migrations (they also run
/// at every start; safe when several processes start at once).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the queue store's schema migrations.")

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        if let postgres = runtime.store as? PostgresQueueStore {
            let applied = try await postgres.migrate()
            print("migrate: PostgreSQL schema up to date" + (applied.isEmpty ? "" : " (applied \(applied.map(String.init).joined(separator: ", ")))"))
        } else {
            print("migrate: SQLite schema up to date")
        }
    }
}
