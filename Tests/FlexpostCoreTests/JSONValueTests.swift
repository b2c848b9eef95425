import Foundation
import Testing

@testable import FlexpostCore

/// `JSONValue.parse` is the intake's JSON parser, strict by RFC 8259.
/// Foundation's `JSONSerialization` is an independent reference for the
/// grammar: whatever this parser accepts, Foundation accepts with the same
/// content; what Foundation accepts and this parser refuses must be one of the
/// strict rules (a trailing comma, a key twice, a number beyond a `Double`,
/// which Foundation lets a later duplicate key replace).
@Suite("JSON parser: RFC 8259, strict, against Foundation")
struct JSONValueTests {
    /// Foundation's reading, nil when it refuses.
    static func reference(_ bytes: [UInt8]) -> JSONValue? {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: []) else { return nil }
        return JSONValue(parsed)
    }

    static func ours(_ bytes: [UInt8]) -> [UInt8]? {
        (try? JSONValue.parse(bytes))?.canonicalBytes
    }

    /// Foundation reads numbers with long mantissas through `Decimal`, which
    /// misses the nearest `Double` (far off with large exponents): numbers
    /// agree within a relative 1e-9, which a lost or changed digit is not.
    static func sameContent(_ a: JSONValue, _ b: JSONValue) -> Bool {
        switch (a, b) {
        case (.object(let x), .object(let y)):
            return x.count == y.count && x.allSatisfy { key, value in y[key].map { sameContent(value, $0) } ?? false }
        case (.array(let x), .array(let y)): return x.count == y.count && zip(x, y).allSatisfy(sameContent)
        case (.number(let x), .number(let y)):
            guard let cx = JSONValue.canonicalNumber(x), let cy = JSONValue.canonicalNumber(y) else { return false }
            if cx == cy { return true }
            guard let dx = Double(cx), let dy = Double(cy) else { return false }
            return abs(dx - dy) <= 1e-9 * max(abs(dx), abs(dy))
        default: return a == b
        }
    }

    /// The property, or why it fails.
    static func disagreement(_ bytes: [UInt8]) -> String? {
        let reference = Self.reference(bytes)
        do {
            let parsed = try JSONValue.parse(bytes)
            guard let reference else { return "accepted, Foundation refuses" }
            return sameContent(parsed, reference) ? nil : "content differs from Foundation's"
        } catch {
            guard reference != nil else { return nil }
            switch error.problem {
            case .trailingComma, .duplicateKey, .numberOutOfRange: return nil
            case .grammar: return "refused at byte \(error.offset), Foundation accepts"
            }
        }
    }

    static let edgeCases: [String] = [
        // numbers: every class Foundation gives (Int, UInt64, Double), overflow and underflow
        "[1, -0, 0.0, -0.0, 1.0, 1e2, 1E2, 1.5, 12345678901234567890, 9223372036854775807]",
        "[9223372036854775808, -9223372036854775808, -9223372036854775807, -9223372036854775809]",
        "[18446744073709551615, 18446744073709551616, 123456789012345678901234567890]",
        "[0.1, 1e15, 999999999999999, 1000000000000000, 1e16, 100000000000000000000.0, 5e-324, 2.5e-400]",
        "[2147483647, 2147483648, -2147483649, 999999999999999.9, 1e-0, 1E+2, -0e0, 0e5]",
        "[1.7976931348623157e308]", "[1.7976931348623159e308]", "[1e400]", "[-1e400]", "[4.9e-324]",
        "[1.5e+3, 1.25e-1, 123.456, 1e-7, 0.30000000000000004, 12.50, 120e-1, -1.5e-3, 1.0e5]",
        "[00]", "[01]", "[-01]", "[1.]", "[.5]", "[-]", "[+1]", "[1e]", "[1e+]", "[0x10]", "[1.e5]", "[NaN]",
        "[Infinity]", "[-Infinity]",
        // literals and structure
        "[true,false,null]", "[tru]", "[true1]", "[1true]", "[1 2]", "[nul]", "[null ]", "[]", "{}", "[[]]", "[{}]",
        "[1,]", "{\"a\":1,}", "[,1]", "[1,,2]", "{\"a\":1,,}", "[,]", "{,}", "[1,]]", "{\"a\":1}}", "[[1,],]",
        "{\"a\" : 1 }", "{\"a\":1 , \"b\":2}", "{a:1}", "{'a':1}", "{\"a\"1}", "{\"a\":}", "{\"a\"}", "{1:2}",
        "{\"a\":1\"b\":2}", "[\"a\"\"b\"]", "[", "{", "[1", "{\"a\":1", "]", "}", "", " ", "1", "\"x\"", "true",
        "null",
        // whitespace and what surrounds the document
        "\u{FEFF}[1]", " [1] ", "[1] x", "[1]\n", "\t\r\n[1]", "[1\u{0B}]", "[1\u{0C}]", "\u{A0}[1]", "[1]\u{0}",
        // duplicate keys: Foundation keeps the later value; refused here
        "{\"a\":1,\"a\":2}", "{\"a\":1e400,\"a\":1}", "{\"a\":[1E400],\"a\":2}", "{\"a\":1,\"a\":1e400}",
        "{\"a\":1e400,\"b\":{\"c\":1e999,\"c\":0},\"a\":null}", "{\"a\":{\"c\":1e999},\"b\":1e999,\"b\":0}", "{\"a\":{\"x\":1},\"a\":[2]}", "{\"\u{e9}\":1,\"e\u{301}\":2}", "{\"e\u{301}\":1,\"\u{e9}\":2}",
        // strings: escapes, surrogates, controls, non-ASCII
        "[\"\\/\"]", "[\"\\x\"]", "[\"\\u00E9\"]", "[\"\\uD83D\\uDE00\"]", "[\"\\ud83d\\ude00\"]", "[\"\\ud800\"]",
        "[\"\\udc00x\"]", "[\"\\ud83dx\"]", "[\"\\ud83d\\u0041\"]", "[\"\\uZZZZ\"]", "[\"\\u12\"]", "[\"\\u0000\"]",
        "[\"a\tb\"]", "[\"\u{7f}\"]", "[\"\u{2028}\"]", "[\"\u{0}\"]", "[\"\\b\\f\\n\\r\\t\\\"\\\\\"]", "[\"abc",
        "[\"a\\\"]", "[\"\u{1F600} caf\u{e9} \u{4E2D}\"]", "{\"k\\u0000\":\"v\\u001f\"}", "[\"\\uDBFF\\uDFFF\"]",
        "[\"\\u0041\\u00e9\\u4e2d\"]", "[\"x\\",
    ]

    @Test("edge cases: what is accepted Foundation reads alike; what Foundation alone accepts breaks a strict rule")
    func edgeCasesAgree() {
        for text in Self.edgeCases {
            let problem = Self.disagreement(Array(text.utf8))
            #expect(problem == nil, "\(text.debugDescription): \(problem ?? "")")
        }
    }

    @Test("strict: a trailing comma, a key twice (in either Unicode spelling), a number beyond a Double are refused, naming the byte")
    func strict() {
        let refused: [(String, JSONValue.SyntaxError)] = [
            ("[1,]", .init(offset: 3, problem: .trailingComma)),
            ("{\"a\":1, }", .init(offset: 8, problem: .trailingComma)),
            ("[[1],\n]", .init(offset: 6, problem: .trailingComma)),
            ("{\"a\":1,\"a\":2}", .init(offset: 7, problem: .duplicateKey("a"))),
            ("{\"x\":{\"a\":1},\"y\":{\"b\":1,\"b\":1}}", .init(offset: 24, problem: .duplicateKey("b"))),
            ("{\"\u{e9}\":1,\"e\u{301}\":2}", .init(offset: 8, problem: .duplicateKey("e\u{301}"))),
            ("[1e400]", .init(offset: 1, problem: .numberOutOfRange)),
            ("{\"a\":1e400,\"a\":1}", .init(offset: 5, problem: .numberOutOfRange)),
            ("[1, 2 3]", .init(offset: 6)),
            ("\"x\"", .init(offset: 0)),
        ]
        for (text, error) in refused {
            #expect(throws: error, "\(text.debugDescription)") { try JSONValue.parse(Array(text.utf8)) }
        }
        // Foundation accepts each of these; the strict rules are ours.
        for text in ["[1,]", "{\"a\":1,\"a\":2}", "{\"a\":1e400,\"a\":1}"] {
            #expect(Self.reference(Array(text.utf8)) != nil, "\(text)")
        }
    }

    @Test("numbers: integers as integers, any other as its Double; 1, 1.0 and 1e0 are one number")
    func numbers() {
        let canonical: [(String, String?)] = [
            ("0", "0"), ("-0", "0"), ("-0.0", "0"), ("1", "1"), ("1.0", "1"), ("1e0", "1"), ("1E2", "100"),
            ("12.50", "12.5"), ("120e-1", "12"), ("0.1", "0.1"), ("-1.5e-3", "-0.0015"), ("1e-7", "1e-07"),
            ("9223372036854775807", "9223372036854775807"), ("-9223372036854775808", "-9223372036854775808"),
            ("9223372036854775808", "9223372036854775808"), ("18446744073709551615", "18446744073709551615"),
            ("18446744073709551616", "1.8446744073709552e+19"), ("-9223372036854775809", "-9.223372036854776e+18"),
            ("9007199254740993", "9007199254740993"), ("9007199254740993.0", "9007199254740992.0"),
            ("1e15", "1000000000000000"), ("1e16", "1e+16"), ("0.30000000000000004", "0.30000000000000004"),
            ("0.12345678901234567890", "0.12345678901234568"), ("123456789012345678901", "1.2345678901234568e+20"),
            ("5e-324", "5e-324"), ("2.5e-400", "0"), ("1.7976931348623157e308", "1.7976931348623157e+308"),
            ("1e400", nil), ("-1e400", nil),
        ]
        for (literal, expected) in canonical {
            #expect(JSONValue.canonicalNumber(literal) == expected, "\(literal)")
        }
    }

    @Test("invalid UTF-8 inside a string is refused, as Foundation refuses it")
    func invalidUTF8() {
        let cases: [[UInt8]] = [
            [0x5B, 0x22, 0xFF, 0x22, 0x5D], [0x5B, 0x22, 0xC3, 0x22, 0x5D], [0x5B, 0x22, 0xED, 0xA0, 0x80, 0x22, 0x5D],
            [0x5B, 0x22, 0xC0, 0xAF, 0x22, 0x5D], [0x5B, 0x22, 0xF4, 0x90, 0x80, 0x80, 0x22, 0x5D],
            [0x5B, 0x22, 0x5C, 0x6E, 0xFF, 0x22, 0x5D],
        ]
        for bytes in cases {
            #expect(Self.reference(bytes) == nil)
            #expect(Self.ours(bytes) == nil, "\(bytes)")
        }
    }

    @Test("nesting: 512 levels are accepted and 513 refused, by both")
    func depth() {
        for depth in [1, 100, 511, 512, 513, 600, 5000] {
            let arrays = Array((String(repeating: "[", count: depth) + String(repeating: "]", count: depth)).utf8)
            #expect((Self.ours(arrays) != nil) == (depth <= 512) && Self.disagreement(arrays) == nil, "arrays \(depth)")
            let objects = Array((String(repeating: "{\"k\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)).utf8)
            #expect((Self.ours(objects) != nil) == (depth <= 512) && Self.disagreement(objects) == nil, "objects \(depth)")
        }
    }

    @Test("the shipped fixture events: the canonical data bytes of Foundation's reading")
    func fixtures() throws {
        for name in ["order-cancelled.json", "order-new-customer.json", "order-second-base-package.json",
                     "order-second-site.json", "order-services-only.json", "portal-account-activated.json"] {
            let bytes = Fixtures.event(name)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let decoded = try EventDecoder().decode(bytes)
            #expect(decoded.canonicalData == CanonicalJSON.bytes(object["data"]!), "\(name)")
        }
    }

    @Test("5,000 generated documents and 15,000 damaged copies: accepted ones read as Foundation reads them, refused ones refused by Foundation or by a strict rule")
    func generated() {
        var random = SplitMix(seed: 0x5EED_F1E0)
        var disagreements: [String] = []
        var accepted = 0
        for _ in 0..<5_000 {
            var text = ""
            Self.writeValue(depth: 0, into: &text, random: &random)
            let bytes = Array(text.utf8)
            if let problem = Self.disagreement(bytes) { disagreements.append("\(text): \(problem)") }
            if Self.ours(bytes) != nil { accepted += 1 }
            // Damage: drop, repeat or replace a byte, or cut the document short.
            for _ in 0..<3 {
                var damaged = bytes
                let position = Int(random.next() % UInt64(max(damaged.count, 1)))
                switch random.next() % 4 {
                case 0: damaged.remove(at: position)
                case 1: damaged.insert(damaged[position], at: position)
                case 2: damaged[position] = Self.damageBytes[Int(random.next() % UInt64(Self.damageBytes.count))]
                default: damaged = Array(damaged.prefix(position))
                }
                if let problem = Self.disagreement(damaged) {
                    disagreements.append("\(String(decoding: damaged, as: UTF8.self)): \(problem)")
                }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(3))")
        #expect(accepted > 3_000, "the generator must mostly produce valid JSON (\(accepted))")
    }

    static let damageBytes: [UInt8] = Array("{}[],:\"\\ 0-.eE+tfnu\u{1}".utf8) + [0x80, 0xC3, 0xFF]

    static let stringPieces: [String] = [
        "a", "Z", "0", " ", "caf\u{e9}", "e\u{301}", "\u{4E2D}", "\u{1F600}", "\\\"", "\\\\", "\\/", "\\n", "\\t",
        "\\b", "\\f", "\\r", "\\u0041", "\\u00e9", "\\u00C9", "\\u0000", "\\u001f", "\\ud83d\\ude00", "\\u2028",
        "\u{7F}", "\u{2029}", "\u{85}", "x",
    ]
    static let numbers: [String] = [
        "0", "-0", "1", "-1", "42", "1.5", "-2.25", "1e3", "1E-3", "2.5e+2", "0.1", "1e15", "1e16", "123456789",
        "9223372036854775807", "9223372036854775808", "-9223372036854775808", "18446744073709551616", "3.0",
        "1.7976931348623157e308", "5e-324", "1e-400", "0.30000000000000004", "100.0", "-0.0",
        // long mantissas (Foundation reads them through Decimal), upper-case exponents, large exponents
        "0.12345678901234567890", "1234567890.123456789e5", "1.000000000000000000001", "-0.30000000000000004",
        "12345678901234567890e127", "12345678901234567890e128", "1.2345678901234567890E3", "99999999999999999999",
        "-9999999999999999999", "-999999999999999999", "18446744073709551615", "123456789012345678901",
        "0.000000000000000000001e-128", "123456789012345678e-127", "1.5E308", "1E400", "-12345678901234567.5",
    ]
    static let keys: [String] = ["a", "b", "A", "orderId", "\u{e9}", "e\u{301}", "\\u00e9", "z", "a b", "\\\"q", ""]
    static let spaces: [String] = ["", "", "", " ", "\n", "\t", "\r\n  "]

    static func writeValue(depth: Int, into text: inout String, random: inout SplitMix) {
        let pick = depth > 5 ? random.next() % 4 : random.next() % 7
        switch pick {
        case 0:
            text += "\""
            for _ in 0..<(random.next() % 5) { text += stringPieces[Int(random.next() % UInt64(stringPieces.count))] }
            text += "\""
        case 1: text += numbers[Int(random.next() % UInt64(numbers.count))]
        case 2: text += ["true", "false", "null"][Int(random.next() % 3)]
        case 3: text += random.next() % 2 == 0 ? "[]" : "{}"
        case 4, 5:
            text += "{"
            let count = Int(random.next() % 5)
            for index in 0..<count {
                if index > 0 { text += "," }
                text += spaces[Int(random.next() % UInt64(spaces.count))]
                text += "\"" + keys[Int(random.next() % UInt64(keys.count))] + "\""
                text += spaces[Int(random.next() % UInt64(spaces.count))] + ":"
                writeValue(depth: depth + 1, into: &text, random: &random)
            }
            if count > 0 && random.next() % 8 == 0 { text += "," }
            text += spaces[Int(random.next() % UInt64(spaces.count))] + "}"
        default:
            text += "["
            let count = Int(random.next() % 5)
            for index in 0..<count {
                if index > 0 { text += "," }
                text += spaces[Int(random.next() % UInt64(spaces.count))]
                writeValue(depth: depth + 1, into: &text, random: &random)
            }
            if count > 0 && random.next() % 8 == 0 { text += "," }
            text += "]"
        }
        if depth == 0 && !(text.hasPrefix("{") || text.hasPrefix("[")) {
            text = "[" + text + "]"
        }
    }

    @Test("a refused event says where the document stops being JSON, and why")
    func errorOffset() {
        #expect(throws: EventRejection(field: "body", rule: "must be a JSON object (not valid JSON at byte 9)")) {
            try EventDecoder().decode(Array("{\"type\": }".utf8))
        }
        #expect(throws: EventRejection(field: "body",
                                       rule: "must be a JSON object (the key \"type\" twice in one object, again at byte 28)")) {
            try EventDecoder().decode(Array("{\"type\": \"order.confirmed\", \"type\": 1}".utf8))
        }
        #expect(throws: EventRejection(
            field: "body", rule: "must be a JSON object (not valid JSON at byte 22: a comma before the closing bracket)")) {
            try EventDecoder().decode(Array("{\"type\": \"x\", \"a\": [1,]}".utf8))
        }
        #expect(throws: EventRejection(field: "body", rule: "must be a JSON object")) {
            try EventDecoder().decode(Array("[1]".utf8))
        }
    }
}
