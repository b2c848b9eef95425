import ArgumentParser
import FlexpostCore
import Foundation
import Logging

/// `flexpost`: the command line of SPEC §4. Commands parse and hand over;
/// the work happens in the runtime's parts.
public struct Flexpost: AsyncParsableCommand {
    public static let configuration = CommandConfiguration(
        commandName: "flexpost",
        abstract: "Delivers CompanyFlex access-data e-mails and BSP administrator notices.",
        subcommands: [Serve.self, Drain.self, Enqueue.self, Resend.self, ResendDead.self, Status.self, List.self, Purge.self,
                      Preview.self, HoldCommand.self, ReleaseCommand.self, CancelCommand.self, EraseCommand.self,
                      BounceCommand.self, SupportUserCommand.self, RetryEvents.self,
                      Migrate.self,
                      Rekey.self])

    public init() {}
}

/// Ends a command with an exit status after it printed what it had to say.
struct CommandExit: Error {
    let code: Int32
}

/// The program's entry: maps outcomes to the exit statuses of SPEC §4
/// (0 success, 1 rejected/conflict/failed delivery, 2 usage or configuration).
public enum FlexpostMain {
    public static func main() async -> Never {
        // Everything flexpost creates (the SQLite files, the key, the outbox,
        // its mail) is for its own user only.
        umask(0o077)
        let command: ParsableCommand
        do {
            command = try Flexpost.parseAsRoot()
        } catch {
            if Flexpost.exitCode(for: error) == .success {
                print(Flexpost.fullMessage(for: error))
                exit(0)
            }
            printError(Flexpost.fullMessage(for: error))
            exit(2)
        }
        do {
            if var asyncCommand = command as? AsyncParsableCommand {
                try await asyncCommand.run()
            } else {
                var syncCommand = command
                try syncCommand.run()
            }
            exit(0)
        } catch let error as CommandExit {
            exit(error.code)
        } catch where Flexpost.exitCode(for: error) == .success {
            // `--help` and `help COMMAND`: the parser hands back a help command
            // whose run throws the help request.
            print(Flexpost.fullMessage(for: error))
            exit(0)
        } catch let error as ValidationError {
            // A usage error found when the command starts (an unreadable input
            // file), before any work: the same status as one found by the parser.
            printError("flexpost: \(error.message)")
            exit(2)
        } catch let error as ConfigurationError {
            printError("flexpost: configuration error: \(error.description)")
            exit(2)
        } catch {
            printError("flexpost: \(error)")
            exit(1)
        }
    }

    static func printError(_ text: String) {
        FileHandle.standardError.write(Data((text + "\n").utf8))
    }
}

/// A command's input file, or standard input for `-`; a file that cannot be
/// read is a usage error naming it and why.
func readInput(_ file: String) throws -> Data {
    if file == "-" { return FileHandle.standardInput.readDataToEndOfFile() }
    var isDirectory: ObjCBool = false
    guard FileManager.default.fileExists(atPath: file, isDirectory: &isDirectory) else {
        throw ValidationError("cannot read \(file): no such file")
    }
    if isDirectory.boolValue { throw ValidationError("cannot read \(file): it is a directory") }
    guard let data = FileManager.default.contents(atPath: file) else {
        throw ValidationError("cannot read \(file): permission denied or unreadable")
    }
    return data
}

/// Loads configuration, sets up logging, builds the runtime.
func startRuntime(mail: Bool = true) async throws -> Runtime {
    let (configuration, logger) = try startLogging()
    return try await Runtime.start(configuration: configuration, logger: logger, mail: mail)
}

/// The configuration from the environment, and the logger it asks for.
func startLogging() throws -> (Configuration, Logger) {
    let configuration = try Configuration.fromEnvironment()
    LogOutput.bootstrap(format: configuration.logFormat)
    var logger = Logger(label: "flexpost")
    logger.logLevel = .info
    for name in Configuration.unknownSettings(in: ProcessInfo.processInfo.environment) {
        // A misspelled FLEXPOST_SMTP_URL would otherwise send real mail to the outbox without a word.
        logger.warning("unknown setting ignored: is it misspelled?", metadata: ["setting": "\(name)"])
    }
    return (configuration, logger)
}
