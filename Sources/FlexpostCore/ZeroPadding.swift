extension BinaryInteger {
    /// Decimal digits, left-padded with zeros to `width` (`7.zeroPadded(2)` is "07").
    /// Dates and headers are formatted on every message: this avoids `String(format:)`.
    func zeroPadded(_ width: Int) -> String {
        let digits = String(self.magnitude)
        let padding = String(repeating: "0", count: max(0, width - digits.count))
        return (self < 0 ? "-" : "") + padding + digits
    }
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, two digits a byte.
    var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
