import Foundation

/// A parsed JSON document, typed: what the event decoder validates and what
/// the idempotency fingerprint is computed over.
///
/// Parsed by ``JSONValue/parse(_:)`` straight from the UTF-8 bytes of a
/// request body, strictly by RFC 8259: no trailing comma, no key twice in an
/// object (RFC 7493; two spellings of one Unicode string are one key), no
/// number beyond a `Double`, nesting at most 512 levels; a leading UTF-8 byte
/// order mark is ignored (RFC 8259 §8.1 allows it). Hand-written, a fast path
/// that pays: Foundation's `JSONSerialization` into `[String: Any]` and its
/// sorted-keys writer cost a third of intake's CPU (docs/benchmarks.md), and
/// it accepts what this refuses.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// A number, held as its literal text; its canonical text is
    /// ``JSONValue/canonicalNumber(_:)``.
    case number(String)
    case string(String)
    case array([JSONValue])
    case object([String: JSONValue])

    /// The deepest nesting of arrays and objects accepted.
    public static let maxDepth = 512

    public struct SyntaxError: Error, Sendable, Equatable {
        /// Byte offset where the document stopped being JSON.
        public let offset: Int
        /// What is wrong there, when it is more than the grammar.
        public var problem: Problem = .grammar

        public enum Problem: Sendable, Equatable {
            case grammar
            /// A comma before `]` or `}`.
            case trailingComma
            /// The object already has this key.
            case duplicateKey(String)
            /// A number beyond a `Double`'s range.
            case numberOutOfRange
        }

        public init(offset: Int, problem: Problem = .grammar) {
            self.offset = offset
            self.problem = problem
        }

        /// Said after "must be a JSON object" when an event is refused.
        public var explanation: String {
            switch problem {
            case .grammar: "not valid JSON at byte \(offset)"
            case .trailingComma: "not valid JSON at byte \(offset): a comma before the closing bracket"
            case .duplicateKey(let key): "the key \"\(key.prefix(64))\" twice in one object, again at byte \(offset)"
            case .numberOutOfRange: "a number out of range at byte \(offset)"
            }
        }
    }

    public static func parse(_ bytes: [UInt8]) throws(SyntaxError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer) throws(SyntaxError) -> JSONValue in
            var parser = Parser(bytes: buffer)
            return try parser.document()
        }
    }

    public var objectValue: [String: JSONValue]? {
        if case .object(let members) = self { members } else { nil }
    }

    // MARK: - Canonical bytes

    /// Object keys sorted by their UTF-8 bytes, no whitespace, strings escaped
    /// minimally (`"`, `\` and C0 controls only), numbers in canonical text.
    public var canonicalBytes: [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(1024)
        writeCanonical(into: &out)
        return out
    }

    public func writeCanonical(into out: inout [UInt8]) {
        switch self {
        case .null: out.append(contentsOf: "null".utf8)
        case .bool(let value): out.append(contentsOf: (value ? "true" : "false").utf8)
        case .number(let literal): out.append(contentsOf: (Self.canonicalNumber(literal) ?? "null").utf8)
        case .string(let text): CanonicalJSON.writeString(text, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            out.append(UInt8(ascii: "{"))
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            for (index, key) in keys.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                CanonicalJSON.writeString(key, into: &out)
                out.append(UInt8(ascii: ":"))
                members[key]!.writeCanonical(into: &out)
            }
            out.append(UInt8(ascii: "}"))
        }
    }

    /// The canonical text of a JSON number literal (already checked against the
    /// grammar), or nil beyond a `Double`'s range. An integer literal that fits
    /// `Int64` or `UInt64` is written as that integer; any other number as its
    /// `Double`: an integral value below 2^53 as an integer, the rest in Swift's
    /// shortest round-trip form. So `1`, `1.0` and `1e0` are one number.
    static func canonicalNumber(_ literal: String) -> String? {
        let utf8 = literal.utf8
        let isInteger = !utf8.contains { $0 == UInt8(ascii: ".") || $0 == UInt8(ascii: "e") || $0 == UInt8(ascii: "E") }
        if isInteger {
            if let value = Int64(literal) { return String(value) }
            if let value = UInt64(literal) { return String(value) }
        }
        guard let value = Double(literal), value.isFinite else { return nil }
        if value == value.rounded(.towardZero), abs(value) < 9_007_199_254_740_992 { return String(Int64(value)) }
        return "\(value)"
    }

    // MARK: - Parser

    private struct Parser {
        let bytes: UnsafeBufferPointer<UInt8>
        var index = 0
        var depth = 0
        init(bytes: UnsafeBufferPointer<UInt8>) {
            self.bytes = bytes
        }

        func fail() -> SyntaxError { SyntaxError(offset: index) }

        mutating func document() throws(SyntaxError) -> JSONValue {
            // A UTF-8 byte order mark is ignored.
            if bytes.count >= 3, bytes[0] == 0xEF, bytes[1] == 0xBB, bytes[2] == 0xBF { index = 3 }
            skipWhitespace()
            guard index < bytes.count, bytes[index] == UInt8(ascii: "{") || bytes[index] == UInt8(ascii: "[") else {
                throw fail()
            }
            let value = try self.value()
            skipWhitespace()
            guard index == bytes.count else { throw fail() }
            return value
        }

        mutating func skipWhitespace() {
            while index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D: index += 1
                default: return
                }
            }
        }

        mutating func value() throws(SyntaxError) -> JSONValue {
            guard index < bytes.count else { throw fail() }
            switch bytes[index] {
            case UInt8(ascii: "{"): return try object()
            case UInt8(ascii: "["): return try array()
            case UInt8(ascii: "\""): return .string(try string())
            case UInt8(ascii: "t"): try literal("true"); return .bool(true)
            case UInt8(ascii: "f"): try literal("false"); return .bool(false)
            case UInt8(ascii: "n"): try literal("null"); return .null
            default: return try number()
            }
        }

        mutating func literal(_ word: StaticString) throws(SyntaxError) {
            let count = word.utf8CodeUnitCount
            guard bytes.count - index >= count else { throw fail() }
            for offset in 0..<count where bytes[index + offset] != word.utf8Start[offset] { throw fail() }
            index += count
        }

        /// Whether the next byte is `byte`.
        func at(_ byte: UInt8) -> Bool { index < bytes.count && bytes[index] == byte }

        /// The elements of an array or object, from its opening byte to `close`:
        /// `element` reads one; commas separate them (`[1,]` is refused).
        mutating func container(
            close: UInt8, _ element: (inout Parser) throws(SyntaxError) -> Void
        ) throws(SyntaxError) {
            depth += 1
            guard depth <= JSONValue.maxDepth else { throw fail() }
            index += 1
            skipWhitespace()
            while !at(close) {
                try element(&self)
                skipWhitespace()
                if at(close) { break }
                guard at(UInt8(ascii: ",")) else { throw fail() }
                index += 1
                skipWhitespace()
                if at(close) { throw SyntaxError(offset: index, problem: .trailingComma) }
            }
            index += 1
            depth -= 1
        }

        mutating func object() throws(SyntaxError) -> JSONValue {
            var members: [String: JSONValue] = [:]
            try container(close: UInt8(ascii: "}")) { (parser) throws(SyntaxError) in
                guard parser.at(UInt8(ascii: "\"")) else { throw parser.fail() }
                let keyOffset = parser.index
                let key = try parser.string()
                if members[key] != nil { throw SyntaxError(offset: keyOffset, problem: .duplicateKey(key)) }
                parser.skipWhitespace()
                guard parser.at(UInt8(ascii: ":")) else { throw parser.fail() }
                parser.index += 1
                parser.skipWhitespace()
                members[key] = try parser.value()
            }
            return .object(members)
        }

        mutating func array() throws(SyntaxError) -> JSONValue {
            var elements: [JSONValue] = []
            try container(close: UInt8(ascii: "]")) { (parser) throws(SyntaxError) in
                elements.append(try parser.value())
            }
            return .array(elements)
        }

        mutating func number() throws(SyntaxError) -> JSONValue {
            let start = index
            if index < bytes.count, bytes[index] == UInt8(ascii: "-") { index += 1 }
            guard index < bytes.count, isDigit(bytes[index]) else { throw fail() }
            if bytes[index] == UInt8(ascii: "0") {
                index += 1
            } else {
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: ".") {
                index += 1
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail() }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            if index < bytes.count, bytes[index] == UInt8(ascii: "e") || bytes[index] == UInt8(ascii: "E") {
                index += 1
                if index < bytes.count, bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") { index += 1 }
                guard index < bytes.count, isDigit(bytes[index]) else { throw fail() }
                while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            }
            // A number must end where a value may end (`[1true]` is refused).
            if index < bytes.count {
                switch bytes[index] {
                case 0x20, 0x09, 0x0A, 0x0D, UInt8(ascii: ","), UInt8(ascii: "]"), UInt8(ascii: "}"): break
                default: throw fail()
                }
            }
            let literal = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<index]), as: UTF8.self)
            if JSONValue.canonicalNumber(literal) == nil { throw SyntaxError(offset: start, problem: .numberOutOfRange) }
            return .number(literal)
        }

        func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

        /// A string literal starting at the opening quote; its UTF-8 must be valid,
        /// control characters must be escaped, and `\u` escapes must pair surrogates.
        mutating func string() throws(SyntaxError) -> String {
            index += 1
            let start = index
            // Fast path: no escapes.
            while index < bytes.count {
                let byte = bytes[index]
                if byte == UInt8(ascii: "\"") {
                    let slice = UnsafeBufferPointer(rebasing: bytes[start..<index])
                    guard let text = String(validating: slice, as: UTF8.self) else { throw fail() }
                    index += 1
                    return text
                }
                if byte == UInt8(ascii: "\\") { break }
                if byte < 0x20 { throw fail() }
                index += 1
            }
            guard index < bytes.count else { throw fail() }
            var utf8 = Array(UnsafeBufferPointer(rebasing: bytes[start..<index]))
            while index < bytes.count {
                let byte = bytes[index]
                switch byte {
                case UInt8(ascii: "\""):
                    guard let text = String(validating: utf8, as: UTF8.self) else { throw fail() }
                    index += 1
                    return text
                case UInt8(ascii: "\\"):
                    index += 1
                    guard index < bytes.count else { throw fail() }
                    let escaped = bytes[index]
                    index += 1
                    switch escaped {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"): utf8.append(escaped)
                    case UInt8(ascii: "b"): utf8.append(0x08)
                    case UInt8(ascii: "f"): utf8.append(0x0C)
                    case UInt8(ascii: "n"): utf8.append(0x0A)
                    case UInt8(ascii: "r"): utf8.append(0x0D)
                    case UInt8(ascii: "t"): utf8.append(0x09)
                    case UInt8(ascii: "u"):
                        var scalar = try hex4()
                        if scalar >= 0xD800 && scalar < 0xDC00 {
                            guard bytes.count - index >= 6, bytes[index] == UInt8(ascii: "\\"),
                                bytes[index + 1] == UInt8(ascii: "u")
                            else { throw fail() }
                            index += 2
                            let low = try hex4()
                            guard low >= 0xDC00 && low < 0xE000 else { throw fail() }
                            scalar = 0x10000 + ((scalar - 0xD800) << 10) + (low - 0xDC00)
                        } else if scalar >= 0xDC00 && scalar < 0xE000 {
                            throw fail()
                        }
                        utf8.append(contentsOf: String(Character(Unicode.Scalar(scalar)!)).utf8)
                    default: throw fail()
                    }
                default:
                    if byte < 0x20 { throw fail() }
                    utf8.append(byte)
                    index += 1
                }
            }
            throw fail()
        }

        mutating func hex4() throws(SyntaxError) -> UInt32 {
            guard bytes.count - index >= 4 else { throw fail() }
            var value: UInt32 = 0
            for _ in 0..<4 {
                let byte = bytes[index]
                let digit: UInt8
                switch byte {
                case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
                case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
                case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
                default: throw fail()
                }
                value = value << 4 | UInt32(digit)
                index += 1
            }
            return value
        }
    }
}
