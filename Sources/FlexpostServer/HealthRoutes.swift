import FlexpostCore
import Hummingbird

/// `GET /healthz`: the process is alive and its queue store answers.
public struct HealthRoutes: Sendable {
    let store: DeadlineStore

    /// - Parameter store: bounded as a probe's patience allows (``StoreDeadlines/probes``).
    public init(store: DeadlineStore) { self.store = store }

    public func register(on router: Router<FlexpostRequestContext>) {
        router.get("/healthz") { _, context -> Response in
            let store = self.store
            do {
                // A health check answers within a probe's patience, and says when the store does not.
                _ = try await StoreUnavailable.guarding("a health check", logger: context.logger) {
                    try await store.nextDueDate()
                }
                return JSONResponse.make(.ok, ["status": "ok"])
            } catch {
                return JSONResponse.make(.serviceUnavailable, ["status": "store unavailable"])
            }
        }
    }
}
