import FlexpostCore
import Hummingbird
import Prometheus

/// `GET /metrics` in Prometheus text format: the counters and histograms the
/// process recorded, plus queue depth by state and the age of the oldest due
/// delivery, read from the store at scrape time (shared by all workers).
public struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let store: any QueueStore
    let clock: any WallClock

    public init(registry: PrometheusCollectorRegistry, store: any QueueStore, clock: any WallClock) {
        self.registry = registry
        self.store = store
        self.clock = clock
    }

    public func register(on router: Router<BasicRequestContext>) {
        router.get("/metrics") { _, context -> Response in
            let (store, now) = (self.store, clock.now())
            let (counts, oldest) = try await StoreUnavailable.guarding("the queue's counts", logger: context.logger) {
                (try await store.countsByState(), try await store.oldestWaitingDue(at: now))
            }
            for state in DeliveryState.allCases {
                registry.makeGauge(name: "flexpost_queue_deliveries", labels: [("state", state.rawValue)],
                                   help: "Deliveries in the queue by state")
                    .set(Double(counts[state] ?? 0))
            }
            registry.makeGauge(name: "flexpost_oldest_due_age_seconds",
                               help: "How long the oldest due, unsent delivery has waited")
                .set(oldest.map { now.timeIntervalSince($0) } ?? 0)
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
