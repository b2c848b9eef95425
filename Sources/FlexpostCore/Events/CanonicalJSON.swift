import Foundation

/// Canonical JSON, for idempotency fingerprints, JSON answers, event bodies
/// and JSON log lines: object keys sorted by their UTF-8 bytes, no whitespace,
/// strings escaped minimally, numbers in ``JSONValue``'s canonical form. Equal
/// content gives equal bytes whatever the key order or spacing. The one writer
/// is ``JSONValue/writeCanonical(into:)``; values built in code as
/// `[String: Any]` go through ``JSONValue/init(_:)``.
///
/// (Foundation's `JSONSerialization` with `.sortedKeys` does the same job but
/// sorts through locale-aware string comparison: it was a third of the
/// intake's CPU time.)
public enum CanonicalJSON {
    public static func bytes(_ value: Any) -> [UInt8] {
        JSONValue(value).canonicalBytes
    }

    private static let hex: [UInt8] = Array("0123456789abcdef".utf8)

    static func writeString(_ text: String, into out: inout [UInt8]) {
        out.append(UInt8(ascii: "\""))
        for byte in text.utf8 {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: "\\"):
                out.append(UInt8(ascii: "\\"))
                out.append(byte)
            case 0..<0x20:
                out.append(contentsOf: "\\u00".utf8)
                out.append(hex[Int(byte >> 4)])
                out.append(hex[Int(byte & 15)])
            default:
                out.append(byte)
            }
        }
        out.append(UInt8(ascii: "\""))
    }
}

extension JSONValue {
    /// A value built in code (`[String: Any]`, `[Any]`, `String`, `Bool`,
    /// numbers, `NSNull`); anything else is `null`.
    public init(_ value: Any) {
        switch value {
        case let text as String: self = .string(text)
        case let object as [String: Any]: self = .object(object.mapValues(JSONValue.init))
        case let array as [Any]: self = .array(array.map(JSONValue.init))
        case let number as NSNumber:
            switch String(cString: number.objCType) {
            case "c", "B": self = .bool(number.boolValue)  // how Bool and JSONSerialization's booleans bridge
            case "Q": self = .number(String(number.uint64Value))
            case "d", "f": self = .number("\(number.doubleValue)")
            default: self = .number(String(number.int64Value))
            }
        default: self = .null
        }
    }
}
