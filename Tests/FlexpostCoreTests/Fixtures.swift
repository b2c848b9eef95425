import Foundation

/// The project's own test fixtures (Tests/Fixtures), found from this file.
enum Fixtures {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures")

    static func event(_ name: String) -> [UInt8] {
        Array(FileManager.default.contents(atPath: root.appendingPathComponent("events/\(name)").path)!)
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
