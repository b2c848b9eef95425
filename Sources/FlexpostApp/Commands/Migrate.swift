import ArgumentParser
import FlexpostCore

/// `flexpost migrate`: applies the store's schema migrations (they also run
/// at every start; safe when several processes start at once).
struct Migrate: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Apply the queue store's schema migrations.")

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let applied = try await runtime.store.migrate()
        print("migrate: \(runtime.configuration.database.storeName) schema up to date"
            + (applied.isEmpty ? "" : " (applied \(applied.joined(separator: ", ")))"))
    }
}
