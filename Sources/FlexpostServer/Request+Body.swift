import Hummingbird
import NIOCore

extension Request {
    /// The body, or nil when it is longer than `maxSize`: declared so by its
    /// `Content-Length`, or found so while a chunked body arrives. The routes
    /// answer that with their own JSON error rather than Hummingbird's empty 413.
    mutating func collectBody(within maxSize: Int) async throws -> ByteBuffer? {
        do {
            return try await collectBody(upTo: maxSize)
        } catch let error as any HTTPResponseError where error.status == .contentTooLarge {
            return nil
        }
    }
}
