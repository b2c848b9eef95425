/// C0 and C1 controls, DEL, and the Unicode line and paragraph separators:
/// none of them may reach a header, a subject or a log line. One rule for the
/// event decoder (which refuses such fields) and the header encoder (which
/// refuses such values).
enum ControlCharacters {
    static func isForbidden(_ scalar: Unicode.Scalar) -> Bool {
        let v = scalar.value
        return v < 0x20 || (v >= 0x7F && v <= 0x9F) || v == 0x2028 || v == 0x2029
    }

    /// Whether `text` holds a forbidden character; plain ASCII is checked byte by byte.
    static func contained(in text: String) -> Bool {
        for byte in text.utf8 {
            if byte >= 0x80 { return text.unicodeScalars.contains(where: isForbidden) }
            if byte < 0x20 || byte == 0x7F { return true }
        }
        return false
    }
}
