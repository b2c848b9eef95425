import FlexpostCore
import Foundation
import HTTPTypes
import Hummingbird

/// Small JSON answers with a stable shape (`{"error": ...}` for failures).
enum JSONResponse {
    static func make(_ status: HTTPResponse.Status, _ object: some Encodable) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return respond(status, (try? encoder.encode(object)) ?? Data("{}".utf8))
    }

    /// The common flat answer (`{"result": ..., "type": ..., "key": ...}`, errors), written directly.
    static func make(_ status: HTTPResponse.Status, _ fields: [String: String]) -> Response {
        respond(status, CanonicalJSON.bytes(fields))
    }

    private static func respond(_ status: HTTPResponse.Status, _ json: some Sequence<UInt8>) -> Response {
        var buffer = ByteBuffer()
        buffer.writeBytes(json)
        buffer.writeString("\n")
        return Response(status: status, headers: [.contentType: "application/json"], body: .init(byteBuffer: buffer))
    }

    static func error(_ status: HTTPResponse.Status, _ message: String) -> Response {
        make(status, ["error": message])
    }
}
