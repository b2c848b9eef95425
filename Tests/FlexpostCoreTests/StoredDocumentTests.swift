@testable import FlexpostCore
import Foundation
import Testing

/// The stored order document: the binary record round-trips, JSON documents
/// of earlier builds are still read, and damage is an error, never a crash.
@Suite("stored order documents")
struct StoredDocumentTests {
    static func orders() throws -> [OrderConfirmation] {
        try FileManager.default.contentsOfDirectory(atPath: Fixtures.root.appendingPathComponent("events").path).sorted()
            .compactMap { name in
                guard case .orderConfirmed(var order)? = try? EventDecoder().decode(Fixtures.event(name)).event else {
                    return nil
                }
                order.secrets = OrderSecrets()
                return order
            }
    }

    @Test("binary record: every fixture order reads back equal, secrets are never part of it")
    func roundTrip() throws {
        let orders = try Self.orders()
        #expect(orders.count >= 4)
        for order in orders {
            let data = try StoredDocument.encode(order)
            #expect(data.first == StoredDocument.binaryFormat)
            #expect(try StoredDocument.decode(data) == order)
        }
        // Fractional seconds and non-ASCII survive.
        var order = try #require(orders.first)
        order.confirmedAt = Date(timeIntervalSince1970: 1_795_003_200.123_456)
        order.customer.company = "Müller & Söhne — Logistik 🚚"
        #expect(try StoredDocument.decode(StoredDocument.encode(order)) == order)
    }

    @Test("a truncated or damaged record is refused with an error")
    func damage() throws {
        let order = try #require(try Self.orders().first)
        let data = try StoredDocument.encode(order)
        for length in 1..<data.count {
            #expect(throws: StoredDocument.DamagedDocument.self) { try StoredDocument.decode(data.prefix(length)) }
        }
        #expect(throws: StoredDocument.DamagedDocument.self) { try StoredDocument.decode(data + [0]) }
        // Every single-octet change either reads as some order or is refused; none crashes.
        var refused = 0
        for index in 1..<data.count {
            var damaged = data
            damaged[index] ^= 0xA5
            if (try? StoredDocument.decode(damaged)) == nil { refused += 1 }
        }
        #expect(refused > data.count / 4)
    }
}
