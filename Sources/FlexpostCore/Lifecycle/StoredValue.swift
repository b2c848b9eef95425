/// A value read back from the queue store that the code does not know (a
/// state, kind, language or history action written by a newer flexpost, or a
/// damaged row). Reading it as a default would show support a wrong state, so
/// it is an error naming the column and the value.
public struct UnknownStoredValue: Error, Equatable, CustomStringConvertible, Sendable {
    public let column: String
    public let value: String

    public init(column: String, value: String) {
        self.column = column
        self.value = value
    }

    public var description: String { "the queue store holds an unknown \(column) '\(value)'" }
}

extension RawRepresentable where RawValue == String {
    /// The value stored in `column` as `raw`; an unknown one is ``UnknownStoredValue``.
    public init(stored raw: String, column: String) throws(UnknownStoredValue) {
        guard let value = Self(rawValue: raw) else { throw UnknownStoredValue(column: column, value: raw) }
        self = value
    }
}
