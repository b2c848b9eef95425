/// Something that posts a delivery event to the order system (SPEC §6):
/// HTTP through async-http-client in `serve`.
public protocol EventTransport: Sendable {
    /// Posts `body` (JSON) with the given headers; answers the HTTP status.
    /// Throws when no answer came (refused, reset, timed out).
    func post(body: [UInt8], headers: [(name: String, value: String)]) async throws -> Int
}
