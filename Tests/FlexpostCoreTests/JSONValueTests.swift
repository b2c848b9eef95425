import Foundation
import Testing

@testable import FlexpostCore

/// `JSONValue.parse` replaced Foundation's `JSONSerialization` on the intake
/// path. Fingerprints stored by earlier builds were computed over
/// `CanonicalJSON.bytes` of Foundation's parse, so the two must agree on what
/// is JSON and on the canonical bytes of everything that is. These tests hold
/// Foundation's parser as the reference.
@Suite("JSON parser against Foundation")
struct JSONValueTests {
    /// Foundation's verdict and canonical bytes (the path of earlier builds), nil when it refuses.
    static func reference(_ bytes: [UInt8]) -> [UInt8]? {
        guard let parsed = try? JSONSerialization.jsonObject(with: Data(bytes), options: []) else { return nil }
        return CanonicalJSON.bytes(parsed)
    }

    static func ours(_ bytes: [UInt8]) -> [UInt8]? {
        (try? JSONValue.parse(bytes))?.canonicalBytes
    }

    static func agree(_ bytes: [UInt8]) -> Bool {
        reference(bytes) == ours(bytes)
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
        // duplicate keys: the later value wins, the first spelling is kept
        "{\"a\":1,\"a\":2}", "{\"a\":1e400,\"a\":1}", "{\"a\":[1E400],\"a\":2}", "{\"a\":1,\"a\":1e400}",
        "{\"a\":1e400,\"b\":{\"c\":1e999,\"c\":0},\"a\":null}", "{\"a\":{\"c\":1e999},\"b\":1e999,\"b\":0}", "{\"a\":{\"x\":1},\"a\":[2]}", "{\"\u{e9}\":1,\"e\u{301}\":2}", "{\"e\u{301}\":1,\"\u{e9}\":2}",
        // strings: escapes, surrogates, controls, non-ASCII
        "[\"\\/\"]", "[\"\\x\"]", "[\"\\u00E9\"]", "[\"\\uD83D\\uDE00\"]", "[\"\\ud83d\\ude00\"]", "[\"\\ud800\"]",
        "[\"\\udc00x\"]", "[\"\\ud83dx\"]", "[\"\\ud83d\\u0041\"]", "[\"\\uZZZZ\"]", "[\"\\u12\"]", "[\"\\u0000\"]",
        "[\"a\tb\"]", "[\"\u{7f}\"]", "[\"\u{2028}\"]", "[\"\u{0}\"]", "[\"\\b\\f\\n\\r\\t\\\"\\\\\"]", "[\"abc",
        "[\"a\\\"]", "[\"\u{1F600} caf\u{e9} \u{4E2D}\"]", "{\"k\\u0000\":\"v\\u001f\"}", "[\"\\uDBFF\\uDFFF\"]",
        "[\"\\u0041\\u00e9\\u4e2d\"]", "[\"x\\",
    ]

    @Test("edge cases: the same verdict and the same canonical bytes as Foundation")
    func edgeCasesAgree() {
        for text in Self.edgeCases {
            let bytes = Array(text.utf8)
            #expect(Self.agree(bytes), "\(text.debugDescription): Foundation \(Self.reference(bytes).map { String(decoding: $0, as: UTF8.self) } ?? "refuses"), ours \(Self.ours(bytes).map { String(decoding: $0, as: UTF8.self) } ?? "refuses")")
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
            #expect(Self.agree(arrays), "arrays \(depth)")
            let objects = Array((String(repeating: "{\"k\":", count: depth - 1) + "{}" + String(repeating: "}", count: depth - 1)).utf8)
            #expect(Self.agree(objects), "objects \(depth)")
        }
    }

    @Test("the shipped fixture events: the same canonical data bytes as earlier builds fingerprinted")
    func fixtures() throws {
        for name in ["order-cancelled.json", "order-new-customer.json", "order-second-base-package.json",
                     "order-second-site.json", "order-services-only.json", "portal-account-activated.json"] {
            let bytes = Fixtures.event(name)
            let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
            let decoded = try EventDecoder().decode(bytes)
            #expect(decoded.canonicalData == CanonicalJSON.bytes(object["data"]!), "\(name)")
        }
    }

    @Test("5,000 generated documents and 15,000 damaged copies: the same verdict and bytes as Foundation")
    func generated() {
        var random = SplitMix(seed: 0x5EED_F1E0)
        var disagreements: [String] = []
        var accepted = 0
        for _ in 0..<5_000 {
            var text = ""
            Self.writeValue(depth: 0, into: &text, random: &random)
            let bytes = Array(text.utf8)
            if !Self.agree(bytes) { disagreements.append(text) }
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
                if !Self.agree(damaged) { disagreements.append(String(decoding: damaged, as: UTF8.self)) }
            }
        }
        #expect(disagreements.isEmpty, "\(disagreements.count) disagreements, first: \(disagreements.prefix(3))")
        #expect(accepted > 4_000, "the generator must mostly produce valid JSON (\(accepted))")
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
        // long mantissas (Foundation's Decimal path), upper-case exponents, exponents at its ±127 bounds
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

    @Test("the syntax error names the byte where the document stops being JSON")
    func errorOffset() {
        #expect(throws: JSONValue.SyntaxError(offset: 6)) { try JSONValue.parse(Array("[1, 2 3]".utf8)) }
        #expect(throws: JSONValue.SyntaxError(offset: 0)) { try JSONValue.parse(Array("\"x\"".utf8)) }
        #expect(throws: EventRejection(field: "body", rule: "must be a JSON object (not valid JSON at byte 9)")) {
            try EventDecoder().decode(Array("{\"type\": }".utf8))
        }
        #expect(throws: EventRejection(field: "body", rule: "must be a JSON object")) {
            try EventDecoder().decode(Array("[1]".utf8))
        }
    }
}
