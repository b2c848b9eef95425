/// Eight bytes read as one word, for the wire check and the quoted-printable
/// encoder's fast paths (tested against their byte-by-byte references).
enum ByteWords {
    static let ones: UInt64 = 0x0101_0101_0101_0101
    static let highBits: UInt64 = 0x8080_8080_8080_8080

    /// Whether any byte of `word` is 0x80 or above.
    @inline(__always)
    static func hasHighByte(_ word: UInt64) -> Bool {
        word & highBits != 0
    }

    /// Whether any byte of `word` is below `limit` (at most 0x80).
    @inline(__always)
    static func hasByteBelow(_ limit: UInt8, _ word: UInt64) -> Bool {
        (word &- ones &* UInt64(limit)) & ~word & highBits != 0
    }
}
