import FlexpostCore
import Foundation

/// libFuzzer target: any text through the header encoder and the
/// quoted-printable encoder. Output is 7-bit, folded only as CRLF SP, encoded
/// words at most 75 characters, lines at most 76 (QP), and it decodes back.
enum FuzzMailEncoding {
    static func check(_ bytes: [UInt8]) {
        let text = String(decoding: bytes, as: UTF8.self)
        if let encoded = try? HeaderEncoding.unstructured(text, header: "Subject") {
            expectHeaderSafe(encoded)
            let words = encoded.components(separatedBy: "\r\n ")
            if words.count > 1 || encoded.hasPrefix("=?utf-8?B?") {
                var decoded = ""
                for word in words {
                    guard word.count <= 75, word.hasPrefix("=?utf-8?B?"), word.hasSuffix("?="),
                        let data = Data(base64Encoded: String(word.dropFirst(10).dropLast(2)))
                    else { fatalError("bad encoded word: \(word)") }
                    decoded += String(decoding: data, as: UTF8.self)
                }
                guard decoded == text else { fatalError("encoded words do not decode to the input") }
            } else if encoded != text {
                fatalError("plain subject changed")
            }
        } else if !text.unicodeScalars.contains(where: { $0.value < 0x20 || ($0.value >= 0x7F && $0.value <= 0x9F) || $0.value == 0x2028 || $0.value == 0x2029 }) {
            fatalError("refused a value without control characters")
        }
        if let name = try? HeaderEncoding.displayName(text, header: "To") { expectHeaderSafe(name) }

        let qp = QuotedPrintable.encode(text)
        if let problem = WireFormat.violation(in: qp) { fatalError("QP broke the wire format: \(problem)") }
        for line in String(decoding: qp, as: UTF8.self).components(separatedBy: "\r\n") where line.utf8.count > 76 {
            fatalError("QP line over 76")
        }
        if decodeQuotedPrintable(qp) != withCRLF(Array(text.utf8)) { fatalError("QP does not decode to the input") }
    }

    /// RFC 2045 decoding: "=" CRLF is a soft break, "=XY" an octet.
    static func decodeQuotedPrintable(_ encoded: [UInt8]) -> [UInt8] {
        func hex(_ byte: UInt8) -> UInt8? {
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): byte - UInt8(ascii: "0")
            case UInt8(ascii: "A")...UInt8(ascii: "F"): byte - UInt8(ascii: "A") + 10
            default: nil
            }
        }
        var out: [UInt8] = []
        var index = 0
        while index < encoded.count {
            let byte = encoded[index]
            guard byte == UInt8(ascii: "=") else {
                out.append(byte)
                index += 1
                continue
            }
            guard index + 2 < encoded.count else { fatalError("QP ends inside an escape") }
            if encoded[index + 1] == 13 && encoded[index + 2] == 10 {
                index += 3
            } else if let high = hex(encoded[index + 1]), let low = hex(encoded[index + 2]) {
                out.append(high << 4 | low)
                index += 3
            } else {
                fatalError("bad QP escape")
            }
        }
        return out
    }

    /// CR, LF and CRLF each as CRLF (what the encoder promises for line breaks).
    static func withCRLF(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var index = 0
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 13 || byte == 10 {
                out += [13, 10]
                index += (byte == 13 && index + 1 < bytes.count && bytes[index + 1] == 10) ? 2 : 1
            } else {
                out.append(byte)
                index += 1
            }
        }
        return out
    }

    static func expectHeaderSafe(_ value: String) {
        for (index, line) in value.components(separatedBy: "\r\n").enumerated() {
            if index > 0 && !line.hasPrefix(" ") { fatalError("fold without leading space") }
            if line.unicodeScalars.contains(where: { !$0.isASCII || $0.value < 0x20 && $0.value != 9 || $0.value == 0x7F }) {
                fatalError("header value not 7-bit printable")
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzMailEncoding(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    FuzzMailEncoding.check(Array(UnsafeRawBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver; SwiftPM names an executable's entry `FuzzMailEncoding_main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt) -> CInt

@_cdecl("FuzzMailEncoding_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzMailEncoding(data, size) }
}
