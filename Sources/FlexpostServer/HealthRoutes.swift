import FlexpostCore
import Hummingbird

/// `GET /healthz`: the process is alive and its queue store answers.
public struct HealthRoutes: Sendable {
    let store: any QueueStore

    public init(store: any QueueStore) { self.store = store }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/healthz") { _, _ -> Response in
            do {
                _ = try await store.nextDueDate()
                return JSONResponse.make(.ok, ["status": "ok"])
            } catch {
                return JSONResponse.make(.serviceUnavailable, ["status": "store unavailable"])
            }
        }
    }
}
