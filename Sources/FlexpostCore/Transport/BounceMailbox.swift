/// SPEC §6: the mailbox bounces arrive in (`FLEXPOST_BOUNCE_MAILBOX`), as
/// `serve` polls it: list, fetch one, delete it once its result is committed.
public protocol BounceMailbox: Sendable {
    /// The UIDs of the messages in the mailbox, lowest (oldest) first.
    func messageUIDs() async throws -> [UInt64]
    /// One message's raw bytes.
    func fetch(uid: UInt64) async throws -> [UInt8]
    /// Removes the message from the mailbox.
    func delete(uid: UInt64) async throws
}
