import Foundation
import GRDB

/// Sample events with changes at JSON paths (`data.items[0].access.password`).
enum EventEditing {
    /// `count` new-customer orders (one access-data mail each) as JSON Lines.
    static func orders(_ count: Int, confirmedAt: String? = nil, adminNoticeOnly: Bool = false) throws -> Data {
        var lines = Data()
        for index in 0..<count {
            let id = String(format: "ORD-LOAD-%05d", index)
            var changes: [(String, Any?)] = [
                ("data.orderId", id), ("data.customer.customerNumber", String(format: "77%08d", index)),
                ("data.customer.contact.email", "customer\(index)@example.com"),
            ]
            if let confirmedAt { changes.append(("data.confirmedAt", confirmedAt)) }
            let name = adminNoticeOnly ? "order-second-base-package.json" : "order-new-customer.json"
            if adminNoticeOnly {
                changes.append(("data.portal.administrators", [["name": "Admin \(index)", "email": "admin\(index)@example.com"]]))
            }
            lines += EventEditing.data(name, changes) + Data("\n".utf8)
        }
        return lines
    }

    static func load(_ name: String) -> Any {
        try! JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: TestEnvironment.fixture(name))))
    }

    /// Applies `value` at `path`; nil removes the member.
    static func set(_ root: Any, _ path: String, _ value: Any?) -> Any {
        var steps: [Either] = []
        for part in path.split(separator: ".") {
            var name = Substring(part)
            var indexes: [Int] = []
            while let open = name.lastIndex(of: "["), name.hasSuffix("]") {
                indexes.insert(Int(name[name.index(after: open)..<name.index(before: name.endIndex)])!, at: 0)
                name = name[..<open]
            }
            steps.append(.key(String(name)))
            steps += indexes.map { .index($0) }
        }
        return apply(root, steps[...], value)
    }

    private enum Either { case key(String), index(Int) }

    private static func apply(_ node: Any, _ steps: ArraySlice<Either>, _ value: Any?) -> Any {
        guard let step = steps.first else { return value ?? NSNull() }
        switch step {
        case .key(let key):
            var object = node as? [String: Any] ?? [:]
            if steps.count == 1 && value == nil {
                object.removeValue(forKey: key)
            } else {
                object[key] = apply(object[key] ?? [String: Any](), steps.dropFirst(), value)
            }
            return object
        case .index(let index):
            var array = node as? [Any] ?? []
            array[index] = apply(array[index], steps.dropFirst(), value)
            return array
        }
    }

    static func data(_ name: String, _ changes: [(String, Any?)]) -> Data {
        var root = load(name)
        for (path, value) in changes { root = set(root, path, value) }
        return try! JSONSerialization.data(withJSONObject: root)
    }
}

/// Every row of every table of a queue file, as text: to prove that a refused
/// event changed nothing.
enum StoreSnapshot {
    static func rows(_ directory: URL) throws -> String {
        let path = directory.appendingPathComponent("queue/flexpost.sqlite").path
        var configuration = Configuration()
        configuration.readonly = true
        let queue = try DatabaseQueue(path: path, configuration: configuration)
        return try queue.read { db in
            var text = ""
            let tables = try String.fetchAll(db, sql: "SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
            for table in tables {
                text += "== \(table)\n"
                // Sorted here: a WITHOUT ROWID table has no rowid to order by.
                for row in try Row.fetchAll(db, sql: "SELECT * FROM \"\(table)\"").map(\.description).sorted() {
                    text += row + "\n"
                }
            }
            return text
        }
    }

    /// All bytes of the queue files (database, WAL, shared memory).
    static func bytes(_ directory: URL) -> String {
        var data = Data()
        for name in ["flexpost.sqlite", "flexpost.sqlite-wal", "flexpost.sqlite-shm"] {
            data += (try? Data(contentsOf: directory.appendingPathComponent("queue/\(name)"))) ?? Data()
        }
        return String(decoding: data, as: UTF8.self)
    }
}
