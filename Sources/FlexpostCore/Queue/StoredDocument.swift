import Foundation

/// How every store keeps an order's document (without its secrets), so that
/// SQLite and PostgreSQL hold the same bytes.
///
/// Written in a compact binary record (like a Postfix queue file): a format
/// octet, then the fields in a fixed order, texts as a length and UTF-8,
/// lists as a count, dates as the IEEE 754 bits of Unix seconds. Reading it
/// costs a tenth of JSON's, measured on the drain (docs/benchmarks.md): the
/// one hand-written format kept for its speed. A damaged record is an error, never a crash or a half-read order.
public enum StoredDocument {
    /// The first octet of a binary document; a JSON document starts with `{`.
    static let binaryFormat: UInt8 = 0x01

    /// Why a stored document cannot be read.
    public struct DamagedDocument: Error, Sendable, CustomStringConvertible {
        public let problem: String
        public var description: String { "stored order document is damaged: \(problem)" }
    }

    public static func encode(_ order: OrderConfirmation) throws -> Data {
        var writer = Writer()
        writer.bytes.append(binaryFormat)
        writer.text(order.orderId)
        writer.date(order.confirmedAt)
        writer.text(order.customer.customerNumber)
        writer.text(order.customer.company)
        writer.contact(order.customer.contact)
        writer.text(order.customer.language.rawValue)
        writer.text(order.portal.accountStatus.rawValue)
        writer.count(order.portal.administrators.count)
        for administrator in order.portal.administrators { writer.contact(administrator) }
        writer.count(order.items.count)
        for item in order.items {
            switch item {
            case .basePackage(let package):
                writer.bytes.append(1)
                writer.text(package.basePackageId)
                writer.text(package.name)
            case .siteProduct(let product):
                writer.bytes.append(2)
                writer.text(product.basePackageId)
                writer.text(product.siteProductId)
                writer.text(product.site.name)
                writer.text(product.site.street)
                writer.text(product.site.postalCode)
                writer.text(product.site.city)
                writer.count(product.phoneNumbers.count)
                for number in product.phoneNumbers { writer.text(number) }
                writer.text(product.access.lineId)
                writer.text(product.access.username)
            case .service(let service):
                writer.bytes.append(3)
                writer.text(service.basePackageId)
                writer.text(service.serviceId)
                writer.text(service.name)
            }
        }
        return Data(writer.bytes)
    }

    public static func decode(_ data: Data) throws -> OrderConfirmation {
        guard data.first == binaryFormat else { throw DamagedDocument(problem: "unknown format \(data.first.map(String.init) ?? "(empty)")") }
        return try data.withUnsafeBytes { raw throws(DamagedDocument) in
            var reader = Reader(bytes: raw.bindMemory(to: UInt8.self), offset: 1)
            let orderId = try reader.text()
            let confirmedAt = try reader.date()
            let customer = Customer(
                customerNumber: try reader.text(), company: try reader.text(), contact: try reader.contact(),
                language: try reader.value(Language.self, "language"))
            let status = try reader.value(PortalAccountStatus.self, "portal account status")
            var administrators: [Contact] = []
            for _ in 0..<(try reader.count()) { administrators.append(try reader.contact()) }
            var items: [OrderItem] = []
            for _ in 0..<(try reader.count()) {
                switch try reader.byte() {
                case 1:
                    items.append(.basePackage(BasePackage(basePackageId: try reader.text(), name: try reader.text())))
                case 2:
                    let basePackageId = try reader.text()
                    let siteProductId = try reader.text()
                    let site = Site(name: try reader.text(), street: try reader.text(), postalCode: try reader.text(),
                                    city: try reader.text())
                    var numbers: [String] = []
                    for _ in 0..<(try reader.count()) { numbers.append(try reader.text()) }
                    let access = AccessData(lineId: try reader.text(), username: try reader.text())
                    items.append(.siteProduct(SiteProduct(
                        basePackageId: basePackageId, siteProductId: siteProductId, site: site, phoneNumbers: numbers,
                        access: access)))
                case 3:
                    items.append(.service(BookedService(
                        basePackageId: try reader.text(), serviceId: try reader.text(), name: try reader.text())))
                case let kind:
                    throw DamagedDocument(problem: "unknown item kind \(kind)")
                }
            }
            guard reader.offset == raw.count else { throw DamagedDocument(problem: "trailing bytes") }
            return OrderConfirmation(
                orderId: orderId, confirmedAt: confirmedAt, customer: customer,
                portal: Portal(accountStatus: status, administrators: administrators), items: items,
                secrets: OrderSecrets())
        }
    }

    struct Writer {
        var bytes: [UInt8] = []

        init() { bytes.reserveCapacity(512) }

        /// LEB128: seven bits per octet, low first.
        mutating func count(_ value: Int) {
            var value = UInt(value)
            while value >= 0x80 {
                bytes.append(UInt8(truncatingIfNeeded: value) | 0x80)
                value >>= 7
            }
            bytes.append(UInt8(value))
        }

        mutating func text(_ value: String) {
            count(value.utf8.count)
            bytes.append(contentsOf: value.utf8)
        }

        mutating func date(_ value: Date) {
            let bits = value.timeIntervalSince1970.bitPattern
            for shift in stride(from: 0, to: 64, by: 8) { bytes.append(UInt8(truncatingIfNeeded: bits >> UInt64(shift))) }
        }

        mutating func contact(_ value: Contact) {
            text(value.name)
            text(value.email.value)
        }
    }

    struct Reader {
        let bytes: UnsafeBufferPointer<UInt8>
        var offset: Int

        mutating func byte() throws(DamagedDocument) -> UInt8 {
            guard offset < bytes.count else { throw DamagedDocument(problem: "truncated") }
            defer { offset += 1 }
            return bytes[offset]
        }

        mutating func count() throws(DamagedDocument) -> Int {
            var value = 0
            var shift = 0
            while true {
                let byte = try byte()
                value |= Int(byte & 0x7F) << shift
                if byte < 0x80 { break }
                shift += 7
                guard shift < 35 else { throw DamagedDocument(problem: "length out of range") }
            }
            // No count or length can exceed what is left of the record.
            guard value <= bytes.count - offset else { throw DamagedDocument(problem: "truncated") }
            return value
        }

        mutating func text() throws(DamagedDocument) -> String {
            let length = try count()
            let slice = UnsafeBufferPointer(rebasing: bytes[offset..<(offset + length)])
            offset += length
            guard let text = String(validating: slice, as: UTF8.self) else {
                throw DamagedDocument(problem: "text is not UTF-8")
            }
            return text
        }

        mutating func date() throws(DamagedDocument) -> Date {
            guard bytes.count - offset >= 8 else { throw DamagedDocument(problem: "truncated") }
            var bits: UInt64 = 0
            for index in 0..<8 { bits |= UInt64(bytes[offset + index]) << UInt64(8 * index) }
            offset += 8
            return Date(timeIntervalSince1970: Double(bitPattern: bits))
        }

        mutating func contact() throws(DamagedDocument) -> Contact {
            let name = try text()
            let address = try text()
            guard let email = try? EmailAddress(validating: address) else {
                throw DamagedDocument(problem: "invalid e-mail address")
            }
            return Contact(name: name, email: email)
        }

        mutating func value<T: RawRepresentable<String>>(_ type: T.Type, _ field: String) throws(DamagedDocument) -> T {
            guard let value = T(rawValue: try text()) else { throw DamagedDocument(problem: "unknown \(field)") }
            return value
        }
    }
}
