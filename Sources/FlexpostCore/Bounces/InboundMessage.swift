import Foundation

/// A received RFC 5322 message (a bounce, an auto-reply, a feedback report)
/// read leniently: real-world bounces have LF or CRLF line ends, folded and
/// broken headers, missing parts and every transfer encoding. Reading never
/// fails; what cannot be read is left out. Pure: bytes in, values out.
public struct InboundMessage: Sendable {
    /// Unfolded header fields in order; names as sent.
    public var headers: [(name: String, value: String)]
    /// The body as sent (still transfer-encoded).
    public var body: [UInt8]

    /// Nesting deeper than this (a bounce of a bounce of ...) is not read.
    static let maximumDepth = 8

    public init(_ bytes: [UInt8]) {
        let (headerBytes, body) = Self.split(bytes)
        self.headers = Self.fields(headerBytes)
        self.body = body
    }

    /// The first field of that name (case-insensitive), trimmed.
    public func header(_ name: String) -> String? {
        let wanted = name.lowercased()
        return headers.first { $0.name.lowercased() == wanted }?.value.trimmingSpaces()
    }

    /// `Content-Type`'s type/subtype, lowercased (`text/plain` when absent).
    public var mediaType: String {
        Self.mediaType(header("Content-Type"))
    }

    /// A `Content-Type` parameter, e.g. `boundary` or `report-type`.
    public func contentTypeParameter(_ name: String) -> String? {
        Self.parameters(header("Content-Type"))[name.lowercased()]
    }

    /// The body with its `Content-Transfer-Encoding` undone (base64, quoted-printable; others as is).
    public var decodedBody: [UInt8] {
        switch header("Content-Transfer-Encoding")?.lowercased() {
        case "base64": Self.base64(body)
        case "quoted-printable": Self.quotedPrintable(body)
        default: body
        }
    }

    /// The parts of a `multipart/*` body; empty for any other.
    public var parts: [InboundMessage] {
        guard mediaType.hasPrefix("multipart/"), let boundary = contentTypeParameter("boundary"), !boundary.isEmpty else {
            return []
        }
        return Self.multipart(body, boundary: boundary).map(InboundMessage.init)
    }

    /// The message itself and every part within it, depth first (bounded).
    public var allParts: [InboundMessage] {
        var found: [InboundMessage] = []
        func walk(_ message: InboundMessage, depth: Int) {
            found.append(message)
            guard depth < Self.maximumDepth else { return }
            for part in message.parts { walk(part, depth: depth + 1) }
            if message.mediaType == "message/rfc822" || message.mediaType == "message/global" {
                walk(InboundMessage(message.decodedBody), depth: depth + 1)
            }
        }
        walk(self, depth: 0)
        return found
    }

    /// The body as text (UTF-8, invalid bytes replaced).
    public var text: String { String(decoding: decodedBody, as: UTF8.self) }

    // MARK: reading

    /// Headers and body at the first empty line (CRLF or LF).
    static func split(_ bytes: [UInt8]) -> ([UInt8], [UInt8]) {
        var index = 0, lineStart = 0
        while index < bytes.count {
            if bytes[index] == 0x0A {
                let line = bytes[lineStart..<index]
                if line.isEmpty || (line.count == 1 && line.first == 0x0D) {
                    return (Array(bytes[..<lineStart]), Array(bytes[(index + 1)...]))
                }
                lineStart = index + 1
            }
            index += 1
        }
        return (bytes, [])
    }

    /// Lines at LF bytes, a CR before it dropped. (Not `String.split(separator: "\n")`:
    /// CRLF is one Character in Swift and would not be split.)
    static func lines(_ bytes: some Collection<UInt8>) -> [String] {
        bytes.split(separator: 0x0A, omittingEmptySubsequences: false).map {
            String(decoding: $0.last == 0x0D ? $0.dropLast() : $0[...], as: UTF8.self)
        }
    }

    /// Header fields, unfolded; a line that is neither a field nor a continuation is skipped.
    static func fields(_ bytes: [UInt8]) -> [(name: String, value: String)] {
        var fields: [(name: String, value: String)] = []
        for line in lines(bytes) {
            if let first = line.first, first == " " || first == "\t" {
                if !fields.isEmpty { fields[fields.count - 1].value += " " + line.trimmingSpaces() }
                continue
            }
            guard let colon = line.firstIndex(of: ":") else { continue }
            let name = line[..<colon].trimmingSpaces()
            guard !name.isEmpty, !name.contains(" ") else { continue }
            fields.append((name, String(line[line.index(after: colon)...]).trimmingSpaces()))
        }
        return fields
    }

    /// Blocks of header-like fields separated by empty lines (a delivery-status body).
    static func fieldBlocks(_ bytes: [UInt8]) -> [[(name: String, value: String)]] {
        var blocks: [[UInt8]] = [[]]
        for line in lines(bytes) {
            if line.trimmingSpaces().isEmpty {
                if !(blocks.last?.isEmpty ?? true) { blocks.append([]) }
            } else {
                blocks[blocks.count - 1] += Array((line + "\n").utf8)
            }
        }
        return blocks.filter { !$0.isEmpty }.map(fields)
    }

    static func mediaType(_ contentType: String?) -> String {
        guard let contentType else { return "text/plain" }
        let type = contentType.split(separator: ";", maxSplits: 1).first.map(String.init) ?? ""
        let trimmed = type.trimmingSpaces().lowercased()
        return trimmed.isEmpty ? "text/plain" : trimmed
    }

    /// `; name=value` parameters, quotes removed, names lowercased.
    static func parameters(_ contentType: String?) -> [String: String] {
        guard let contentType else { return [:] }
        var parameters: [String: String] = [:]
        var pieces: [String] = []
        var current = "", quoted = false
        for character in contentType {
            if character == "\"" { quoted.toggle() }
            if character == ";" && !quoted {
                pieces.append(current)
                current = ""
            } else {
                current.append(character)
            }
        }
        pieces.append(current)
        for piece in pieces.dropFirst() {
            guard let equals = piece.firstIndex(of: "=") else { continue }
            let name = piece[..<equals].trimmingSpaces().lowercased()
            var value = piece[piece.index(after: equals)...].trimmingSpaces()
            if value.hasPrefix("\""), value.hasSuffix("\""), value.count >= 2 { value = String(value.dropFirst().dropLast()) }
            parameters[name] = value
        }
        return parameters
    }

    /// The parts between `--boundary` lines (up to `--boundary--`, or the end).
    static func multipart(_ body: [UInt8], boundary: String) -> [[UInt8]] {
        let delimiter = "--" + boundary
        var parts: [[UInt8]] = []
        var current: [UInt8]?
        var lineStart = 0
        func line(_ range: Range<Int>) {
            var text = body[range]
            if text.last == 0x0D { text = text.dropLast() }
            let string = String(decoding: text, as: UTF8.self).trimmingSpaces()
            if string == delimiter || string == delimiter + "--" {
                if let finished = current { parts.append(finished) }
                current = string == delimiter ? [] : nil
                return
            }
            current?.append(contentsOf: body[range])
            current?.append(0x0A)
        }
        for index in body.indices where body[index] == 0x0A {
            line(lineStart..<index)
            lineStart = index + 1
        }
        if lineStart < body.count { line(lineStart..<body.count) }
        if let unfinished = current, !unfinished.isEmpty { parts.append(unfinished) }
        return parts
    }

    static func base64(_ bytes: [UInt8]) -> [UInt8] {
        let alphabet = bytes.filter {
            ($0 >= 0x41 && $0 <= 0x5A) || ($0 >= 0x61 && $0 <= 0x7A) || ($0 >= 0x30 && $0 <= 0x39) || $0 == 0x2B || $0 == 0x2F
        }
        var text = String(decoding: alphabet, as: UTF8.self)
        text += String(repeating: "=", count: (4 - text.count % 4) % 4)
        return Data(base64Encoded: text).map(Array.init) ?? []
    }

    static func quotedPrintable(_ bytes: [UInt8]) -> [UInt8] {
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count)
        var index = 0
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case 0x30...0x39: byte - 0x30
            case 0x41...0x46: byte - 0x41 + 10
            case 0x61...0x66: byte - 0x61 + 10
            default: nil
            }
        }
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x3D {
                if index + 1 < bytes.count, bytes[index + 1] == 0x0A {
                    index += 2
                    continue
                }
                if index + 2 < bytes.count, bytes[index + 1] == 0x0D, bytes[index + 2] == 0x0A {
                    index += 3
                    continue
                }
                if index + 2 < bytes.count, let high = hex(bytes[index + 1]), let low = hex(bytes[index + 2]) {
                    output.append(high << 4 | low)
                    index += 3
                    continue
                }
            }
            output.append(byte)
            index += 1
        }
        return output
    }
}
