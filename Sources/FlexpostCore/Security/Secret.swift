/// A credential (access password, one-time password, key material) that must
/// never be printed, logged, encoded or reflected by accident.
///
/// The only way to the characters is ``withExposedValue(_:)`` or
/// ``exposedValue``, whose name makes every use visible in review.
public struct Secret: Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible,
    CustomReflectable, CustomLeafReflectable
{
    private let storage: String

    public init(_ value: String) { self.storage = value }

    /// The plain value. Use only where the secret must leave flexpost:
    /// sealing it at rest and rendering the customer's access-data e-mail.
    public var exposedValue: String { storage }

    public func withExposedValue<R>(_ body: (String) throws -> R) rethrows -> R {
        try body(storage)
    }

    public var isEmpty: Bool { storage.isEmpty }

    public var description: String { "<secret>" }
    public var debugDescription: String { "<secret>" }
    public var customMirror: Mirror { Mirror(self, children: [], displayStyle: .struct) }
}
