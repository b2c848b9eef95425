import ArgumentParser
import FlexpostCore
import FlexpostServer
import Foundation

/// `flexpost support-user NAME --role ROLE` (SPEC §7): reads a password from
/// stdin and prints the line for `FLEXPOST_SUPPORT_USERS`.
struct SupportUserCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "support-user",
        abstract: "Print a FLEXPOST_SUPPORT_USERS line (name:role:bcrypt) for a password read from stdin.")

    @Argument(help: "The person's name (letters, digits, . _ -), recorded as the actor of what they do.") var name: String
    @Option(help: "viewer (reads), agent (+ resend) or admin (+ hold, release, resend-dead, cancel, erase).")
    var role: SupportRole

    static let minimumLength = 12

    func validate() throws {
        guard SupportPerson.validName(name) else {
            throw ValidationError("NAME must be 1 to 64 letters, digits, '.', '_' or '-'")
        }
    }

    func run() throws {
        let input = String(decoding: FileHandle.standardInput.readDataToEndOfFile(), as: UTF8.self)
        let password = input.split(separator: "\n", maxSplits: 1, omittingEmptySubsequences: false).first.map(String.init) ?? ""
        guard password.count >= Self.minimumLength else {
            throw ValidationError("the password (stdin, first line) must be at least \(Self.minimumLength) characters")
        }
        print(SupportPerson(name: name, role: role, passwordHash: SupportPasswords.hash(password)).line)
    }
}
