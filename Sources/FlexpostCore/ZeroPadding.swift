extension BinaryInteger {
    /// Decimal digits, left-padded with zeros to `width` (`7.zeroPadded(2)` is "07",
    /// `-7.zeroPadded(2)` is "-07"). Dates and headers are formatted on every
    /// message: digits are written straight into the string's storage (short
    /// results stay inline, no allocation) instead of `String(format:)` or a
    /// generic `String(_:)` and two concatenations.
    func zeroPadded(_ width: Int) -> String {
        var magnitude = UInt64(self.magnitude)
        var digitCount = 1
        var rest = magnitude / 10
        while rest > 0 {
            digitCount += 1
            rest /= 10
        }
        let negative = self < 0
        let count = max(width, digitCount) + (negative ? 1 : 0)
        return String(unsafeUninitializedCapacity: count) { buffer in
            var position = count
            repeat {
                position -= 1
                buffer[position] = UInt8(ascii: "0") + UInt8(magnitude % 10)
                magnitude /= 10
            } while magnitude > 0
            let first = negative ? 1 : 0
            while position > first {
                position -= 1
                buffer[position] = UInt8(ascii: "0")
            }
            if negative { buffer[0] = UInt8(ascii: "-") }
            return count
        }
    }
}

extension Sequence<UInt8> {
    /// Lower-case hexadecimal, two digits a byte: digests and key ids (not
    /// `String(format: "%02x")` per byte, which goes through Foundation).
    public var lowercaseHex: String {
        let digits = Array("0123456789abcdef".utf8)
        var out: [UInt8] = []
        for byte in self {
            out.append(digits[Int(byte >> 4)])
            out.append(digits[Int(byte & 15)])
        }
        return String(decoding: out, as: UTF8.self)
    }
}
