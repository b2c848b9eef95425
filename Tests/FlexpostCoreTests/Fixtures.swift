import Foundation

/// The project's own test fixtures (Tests/Fixtures), found from this file.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func event(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: root.appendingPathComponent("events/\(name)").path)!)
    }

    /// A sample bounce, with `TOKEN` and `MSGID` filled in.
    static func bounce(_ name: String, token: String = "1-aaaa", messageId: String = "<m-1@companyflex.example>") throws -> [UInt8] {
        guard let data = FileManager.default.contents(atPath: root.appendingPathComponent("bounces/\(name)").path) else {
            throw CocoaError(.fileNoSuchFile)
        }
        return Array(String(decoding: data, as: UTF8.self).replacingOccurrences(of: "TOKEN", with: token)
            .replacingOccurrences(of: "<MSGID>", with: messageId).utf8)
    }

    static func eventObject(_ name: String) -> [String: Any] {
        try! JSONSerialization.jsonObject(with: Data(event(name))) as! [String: Any]
    }

    static func bytes(_ object: Any) -> [UInt8] {
        Array(try! JSONSerialization.data(withJSONObject: object))
    }

    static let templatesDirectory = root.deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("templates")
}
