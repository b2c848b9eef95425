import FlexpostCore
import ServiceLifecycle

/// The queue store as the first of `serve`'s services, so that it stops last:
/// once the HTTP intake, the retention sweep and the delivery loop are done
/// with it, its connections are closed.
struct StoreService: Service {
    let store: any QueueStore

    func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
