import FlexpostCore
import Logging
import ServiceLifecycle

/// SPEC §7 search under `serve`: adds the search terms of the orders intake
/// stored since the last run (``SearchIndex``), a batch per transaction, every
/// `interval`. A search indexes whatever is left before it reads, so this only
/// keeps that work small. Under an intake burst one transaction writes the
/// terms of many orders, where intake would have written them one event at a
/// time; batches stay small (100 orders, a few milliseconds) because intake
/// waits for the one writer while a batch is written.
public struct SearchIndexer: Service {
    let index: any SearchIndex
    let logger: Logger
    var interval: Duration
    var batch: Int

    public init(index: any SearchIndex, logger: Logger, interval: Duration = .seconds(2), batch: Int = 100) {
        self.index = index
        self.logger = logger
        self.interval = interval
        self.batch = batch
    }

    public func run() async throws {
        let logger = self.logger
        await Periodic(interval: interval, backoff: (.seconds(5), .seconds(300))).run({
            let indexed = try await index.indexBacklog(batch: batch)
            if indexed > 0 { logger.debug("search terms written", metadata: ["search.orders": "\(indexed)"]) }
            return nil
        }, failed: { error, failures, wait in
            logger.error("search index failed", metadata: [
                "error": "\(error)", "search.failures": "\(failures)", "retry.in": "\(Backoff.text(wait))",
            ])
        })
    }
}
