import Foundation

/// How every store keeps an order's document: JSON with sorted keys and
/// dates as Unix seconds, so that SQLite and PostgreSQL hold the same bytes.
public enum StoredDocument {
    public static func encode(_ order: OrderConfirmation) throws -> Data {
        let encoder = JSONEncoder()
        encoder.dateEncodingStrategy = .secondsSince1970
        encoder.outputFormatting = [.sortedKeys]
        return try encoder.encode(order)
    }

    public static func decode(_ data: Data) throws -> OrderConfirmation {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .secondsSince1970
        return try decoder.decode(OrderConfirmation.self, from: data)
    }
}
