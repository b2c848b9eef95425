import Foundation

/// A value from a parsed JSON document together with its JSON path, so that
/// every validation error can name the field (`data.items[2].access.password`).
struct JSONField {
    let path: String
    let value: JSONValue?

    static let maxStringLength = 256

    func member(_ name: String) -> JSONField {
        JSONField(path: path.isEmpty ? name : "\(path).\(name)", value: value?.objectValue?[name])
    }

    func object() throws(EventRejection) -> JSONField {
        guard let value else { throw reject("is required") }
        guard case .object = value else { throw reject("must be an object") }
        return self
    }

    func array(maxCount: Int = 500) throws(EventRejection) -> [JSONField] {
        guard let value else { throw reject("is required") }
        guard case .array(let list) = value else { throw reject("must be an array") }
        guard list.count <= maxCount else { throw reject("must have at most \(maxCount) entries") }
        return list.enumerated().map { JSONField(path: "\(path)[\($0.offset)]", value: $0.element) }
    }

    var isAbsent: Bool { value == nil || value == .null }

    /// A non-empty string without control characters, at most `maxLength` characters.
    func string(maxLength: Int = maxStringLength) throws(EventRejection) -> String {
        guard let value, value != .null else { throw reject("is required") }
        guard case .string(let text) = value else { throw reject("must be a string") }
        guard !text.isEmpty else { throw reject("must not be empty") }
        // Characters never outnumber UTF-8 bytes: counting characters is needed only for long text.
        guard text.utf8.count <= maxLength || text.count <= maxLength else {
            throw reject("must be at most \(maxLength) characters")
        }
        guard !ControlCharacters.contained(in: text) else {
            throw reject("must not contain CR, LF or other control characters")
        }
        return text
    }

    func optionalString(maxLength: Int = maxStringLength) throws(EventRejection) -> String? {
        isAbsent ? nil : try string(maxLength: maxLength)
    }

    func identifier() throws(EventRejection) -> String {
        let text = try string(maxLength: 64)
        guard text.unicodeScalars.allSatisfy({ $0.isASCII && $0.value > 0x20 && $0.value < 0x7F }) else {
            throw reject("must be printable ASCII without spaces")
        }
        return text
    }

    func timestamp() throws(EventRejection) -> Date {
        let text = try string(maxLength: 40)
        guard let date = RFC3339.parse(text) else {
            throw reject("must be an RFC 3339 date-time with offset, e.g. 2026-11-30T15:12:00+01:00")
        }
        return date
    }

    func email() throws(EventRejection) -> EmailAddress {
        let text = try string(maxLength: 254)
        do { return try EmailAddress(validating: text) } catch { throw reject(error.rule) }
    }

    func oneOf<T: RawRepresentable>(_ type: T.Type) throws(EventRejection) -> T where T.RawValue == String, T: CaseIterable {
        let text = try string(maxLength: 64)
        guard let result = T(rawValue: text) else {
            throw reject("must be one of " + T.allCases.map { "\"\($0.rawValue)\"" }.joined(separator: ", "))
        }
        return result
    }

    func reject(_ rule: String) -> EventRejection {
        EventRejection(field: path, rule: rule)
    }
}
