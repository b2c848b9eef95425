import Foundation

/// What a person of the support team may do (SPEC §7).
public enum SupportRole: String, Sendable, CaseIterable, Comparable {
    /// Reads orders, deliveries and history.
    case viewer
    /// And resends (R7).
    case agent
    /// And holds, releases, resends dead mail, cancels and erases.
    case admin

    public static func < (a: SupportRole, b: SupportRole) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// What a console or API action needs.
public enum SupportAction: Sendable {
    case read, resend, hold, release, resendDead, cancel, erase

    public var requiredRole: SupportRole {
        switch self {
        case .read: .viewer
        case .resend: .agent
        case .hold, .release, .resendDead, .cancel, .erase: .admin
        }
    }
}

extension SupportRole {
    public func allows(_ action: SupportAction) -> Bool { self >= action.requiredRole }
}

/// One person of the support team: a line `name:role:hash` of `FLEXPOST_SUPPORT_USERS`.
public struct SupportPerson: Sendable, Equatable {
    public var name: String
    public var role: SupportRole
    /// bcrypt (`$2b$12$…`); verified at the edge, off the cooperative pool.
    public var passwordHash: Secret

    public init(name: String, role: SupportRole, passwordHash: Secret) {
        self.name = name
        self.role = role
        self.passwordHash = passwordHash
    }

    /// Names are what the history records as actor: letters, digits, `.`, `_`, `-`, up to 64.
    public static func validName(_ name: String) -> Bool {
        !name.isEmpty && name.count <= 64 && name.unicodeScalars.allSatisfy {
            ($0.value >= 0x30 && $0.value <= 0x39) || ($0.value >= 0x41 && $0.value <= 0x5A)
                || ($0.value >= 0x61 && $0.value <= 0x7A) || "._-".unicodeScalars.contains($0)
        }
    }

    /// The file's line for this person.
    public var line: String { "\(name):\(role.rawValue):\(passwordHash.exposedValue)" }
}

/// `FLEXPOST_SUPPORT_USERS`: one person a line, `#` comments and empty lines ignored.
public struct SupportUsers: Sendable, Equatable {
    public var people: [String: SupportPerson]

    public struct LineError: Error, Equatable, CustomStringConvertible, Sendable {
        public var line: Int
        public var problem: String
        public var description: String { "line \(line): \(problem)" }
    }

    public init(people: [SupportPerson]) {
        self.people = Dictionary(people.map { ($0.name, $0) }, uniquingKeysWith: { first, _ in first })
    }

    /// Reads the file's text; an error names the line (never a hash).
    public static func parse(_ text: String) throws(LineError) -> SupportUsers {
        var people: [SupportPerson] = []
        var seen = Set<String>()
        for (index, raw) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            let line = raw.trimmingCharacters(in: .whitespacesAndNewlines)
            if line.isEmpty || line.hasPrefix("#") { continue }
            let fields = line.split(separator: ":", maxSplits: 2, omittingEmptySubsequences: false).map(String.init)
            guard fields.count == 3 else { throw LineError(line: index + 1, problem: "must be name:role:hash") }
            guard SupportPerson.validName(fields[0]) else {
                throw LineError(line: index + 1, problem: "the name must be 1 to 64 letters, digits, '.', '_' or '-'")
            }
            guard let role = SupportRole(rawValue: fields[1]) else {
                throw LineError(line: index + 1, problem: "the role must be viewer, agent or admin")
            }
            guard fields[2].hasPrefix("$2a$") || fields[2].hasPrefix("$2b$") || fields[2].hasPrefix("$2y$"), fields[2].count == 60 else {
                throw LineError(line: index + 1, problem: "the hash must be bcrypt (`flexpost support-user` makes the line)")
            }
            guard seen.insert(fields[0]).inserted else { throw LineError(line: index + 1, problem: "\(fields[0]) is listed twice") }
            people.append(SupportPerson(name: fields[0], role: role, passwordHash: Secret(fields[2])))
        }
        return SupportUsers(people: people)
    }
}
