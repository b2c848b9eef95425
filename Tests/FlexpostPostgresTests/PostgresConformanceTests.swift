import Testing
@testable import FlexpostTestSupport

/// The queue store contract (``StoreConformance``) on a real PostgreSQL server.
@Suite("queue store conformance: PostgreSQL")
struct PostgresConformanceTests {
    @Test("every role of the queue store, on PostgreSQL", arguments: StoreConformance.checks)
    func conformance(_ check: StoreConformance.Check) async throws {
        try await check.run(.postgres)
    }
}
