import FlexpostCore
import Hummingbird
import Prometheus

/// `GET /metrics` in Prometheus text format: the counters and histograms the
/// process recorded, plus queue depth by state and the age of the oldest due
/// delivery, read from the store at scrape time (shared by all workers), and
/// whether the store answered.
public struct MetricsRoutes: Sendable {
    let registry: PrometheusCollectorRegistry
    let store: DeadlineStore
    let clock: any WallClock

    /// - Parameter store: bounded as a scraper's patience allows (``StoreDeadlines/probes``).
    public init(registry: PrometheusCollectorRegistry, store: DeadlineStore, clock: any WallClock) {
        self.registry = registry
        self.store = store
        self.clock = clock
    }

    public func register(on router: Router<FlexpostRequestContext>) {
        router.get("/metrics") { _, context -> Response in
            let (store, now) = (self.store, clock.now())
            // A scrape is answered within a scraper's patience (Prometheus waits
            // 10 s by default) even when the store is not: the process's own
            // counters still tell what the outage refused, and
            // `flexpost_queue_store_up 0` says why the queue's figures are missing.
            let figures = try? await StoreUnavailable.guarding("the queue's counts", logger: context.logger) {
                // One deadline for the five reads together.
                try await store.asking("the queue's counts") { store in
                    (try await store.countsByState(), try await store.oldestWaitingDue(at: now), try await store.holds(),
                     try await store.bounceCounts(), try await store.deliveryEventCounts())
                }
            }
            registry.makeGauge(name: "flexpost_queue_store_up", help: "1 when the queue store answered this scrape, else 0")
                .set(Double(figures == nil ? 0 : 1))
            for state in DeliveryState.allCases {
                let gauge = registry.makeGauge(name: "flexpost_queue_deliveries", labels: [("state", state.rawValue)],
                                               help: "Deliveries in the queue by state")
                if let (counts, _, _, _, _) = figures { gauge.set(Double(counts[state] ?? 0)) } else { registry.unregisterGauge(gauge) }
            }
            let oldest = registry.makeGauge(name: "flexpost_oldest_due_age_seconds",
                                            help: "How long the oldest due, unsent delivery has waited")
            if let (_, due, _, _, _) = figures { oldest.set(due.map { now.timeIntervalSince($0) } ?? 0) } else { registry.unregisterGauge(oldest) }
            // SPEC §8: a hold must not be forgotten; alert on this staying above 0.
            let holds = registry.makeGauge(name: "flexpost_holds", help: "Operators' holds in force")
            let heldSince = registry.makeGauge(name: "flexpost_oldest_hold_age_seconds",
                                               help: "How long the oldest hold in force has lasted (0: none)")
            if let (_, _, inForce, _, _) = figures {
                holds.set(Double(inForce.count))
                heldSince.set(inForce.map(\.since).min().map { now.timeIntervalSince($0) } ?? 0)
            } else {
                registry.unregisterGauge(holds)
                registry.unregisterGauge(heldSince)
            }
            // SPEC §6: bounces taken in by any process, read from the store (monotonic).
            for kind in DeliveryKind.allCases {
                for bounceClass in BounceClass.allCases {
                    let gauge = registry.makeGauge(name: "flexpost_bounces_total",
                                                   labels: [("kind", kind.rawValue), ("class", bounceClass.rawValue)],
                                                   help: "Bounces and other reports taken in, by the mail's kind and the report's class")
                    if let (_, _, _, bounces, _) = figures {
                        gauge.set(Double(bounces.first { $0.kind == kind && $0.bounceClass == bounceClass }?.count ?? 0))
                    } else {
                        registry.unregisterGauge(gauge)
                    }
                }
            }
            // SPEC §6: delivery events the order system has not taken yet, and those given up.
            for state in DeliveryEventState.allCases {
                let gauge = registry.makeGauge(name: "flexpost_delivery_events", labels: [("state", state.rawValue)],
                                               help: "Delivery events for the order system: pending (not taken yet) and failed (given up)")
                if let (_, _, _, _, events) = figures {
                    gauge.set(Double(state == .pending ? events.pending : events.failed))
                } else {
                    registry.unregisterGauge(gauge)
                }
            }
            var buffer: [UInt8] = []
            registry.emit(into: &buffer)
            return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                            body: .init(byteBuffer: ByteBuffer(bytes: buffer)))
        }
    }
}
