/// The names both stores write for the core's values, as SQL literals, so
/// that a state or action is spelled in one place (the enums' raw values)
/// and no SQL statement carries its own copy of it.
public protocol StoredName: RawRepresentable where RawValue == String {}

extension StoredName {
    /// `'scheduled'`: the raw value as an SQL string literal (raw values are
    /// plain words; a quote in one would be a programming error).
    public var sqlLiteral: String {
        precondition(!rawValue.contains("'"), "stored names are plain words")
        return "'" + rawValue + "'"
    }
}

extension Sequence where Element: StoredName {
    /// `'scheduled', 'retrying'`: for `IN (...)`.
    public var sqlList: String { map(\.sqlLiteral).joined(separator: ", ") }
}

extension DeliveryState: StoredName {}
extension DeliveryKind: StoredName {}
extension HistoryAction: StoredName {}
extension EventType: StoredName {}
extension BounceClass: StoredName {}
extension DeliveryEventType: StoredName {}
extension DeliveryEventState: StoredName {}
