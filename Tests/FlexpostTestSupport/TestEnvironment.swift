import Foundation

/// Paths of the package under test and helpers to run the real `flexpost` binary.
enum TestEnvironment {
    static let packageRoot = URL(fileURLWithPath: #filePath)
        .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The binary built by `swift build` (the Makefile passes FLEXPOST_BIN).
    static var binary: String {
        ProcessInfo.processInfo.environment["FLEXPOST_BIN"]
            ?? packageRoot.appendingPathComponent(".build/debug/flexpost").path
    }

    static let templates = packageRoot.appendingPathComponent("templates").path
    static let fixtures = packageRoot.appendingPathComponent("Tests/Fixtures")
    static let smtpServerScript = packageRoot.appendingPathComponent("Tests/Support/smtp_test_server.py").path

    static func fixture(_ name: String) -> String { fixtures.appendingPathComponent("events/\(name)").path }

    /// A fresh directory, removed by nobody: tests leave their evidence for inspection under /tmp.
    static func temporaryDirectory(_ label: String) throws -> URL {
        let url = FileManager.default.temporaryDirectory
            .appendingPathComponent("flexpost-test-\(label)-\(UUID().uuidString.prefix(8))")
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
        return url
    }

    /// A fixed test encryption key and webhook secret (test-only values).
    static let encryptionKey = "test:" + Data(repeating: 42, count: 32).base64EncodedString()
    static let webhookSecret = "whsec_" + Data("flexpost integration test secret".utf8).base64EncodedString()

    static func baseEnvironment(smtpPort: Int? = nil) -> [String: String] {
        var env = ProcessInfo.processInfo.environment.filter { !$0.key.hasPrefix("FLEXPOST_") }
        env["FLEXPOST_TEMPLATES"] = templates
        env["FLEXPOST_ENCRYPTION_KEY"] = encryptionKey
        env["FLEXPOST_WEBHOOK_SECRET"] = webhookSecret
        if let smtpPort { env["FLEXPOST_SMTP_URL"] = "smtp://127.0.0.1:\(smtpPort)" }
        return env
    }

    /// A free TCP port on loopback (bound, then released).
    static func freePort() -> Int {
        let (fd, port) = boundSocket()
        close(fd)
        return port
    }

    /// A TCP socket bound to a free port on loopback; the caller closes it.
    static func boundSocket() -> (fd: Int32, port: Int) {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var size = socklen_t(MemoryLayout<sockaddr_in>.size)
        withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                _ = bind(fd, $0, size)
                _ = getsockname(fd, $0, &size)
            }
        }
        return (fd, Int(UInt16(bigEndian: address.sin_port)))
    }
}

/// What a finished process left behind.
struct ProcessResult {
    var status: Int32
    var stdout: String
    var stderr: String
}

/// A child process with its output in files (no pipe can fill up and block it).
final class ChildProcess: @unchecked Sendable {
    // @unchecked Sendable: Process is only touched through its own thread-safe
    // methods (terminate, isRunning, processIdentifier) after start.
    let process = Process()
    let stdoutURL: URL
    let stderrURL: URL

    init(executable: String, arguments: [String], environment: [String: String], directory: URL,
         stdin: Data? = nil) throws {
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        process.environment = environment
        process.currentDirectoryURL = directory
        let id = UUID().uuidString.prefix(8)
        stdoutURL = directory.appendingPathComponent(".out-\(id)")
        stderrURL = directory.appendingPathComponent(".err-\(id)")
        FileManager.default.createFile(atPath: stdoutURL.path, contents: nil)
        FileManager.default.createFile(atPath: stderrURL.path, contents: nil)
        process.standardOutput = try FileHandle(forWritingTo: stdoutURL)
        process.standardError = try FileHandle(forWritingTo: stderrURL)
        if let stdin {
            let pipe = Pipe()
            process.standardInput = pipe
            try process.run()
            pipe.fileHandleForWriting.write(stdin)
            try pipe.fileHandleForWriting.close()
        } else {
            process.standardInput = FileHandle.nullDevice
            try process.run()
        }
    }

    /// Waits on a dispatch thread, never blocking the cooperative pool.
    func wait() async -> ProcessResult {
        await withCheckedContinuation { continuation in
            DispatchQueue.global().async {
                self.process.waitUntilExit()
                continuation.resume(returning: self.result())
            }
        }
    }

    func result() -> ProcessResult {
        ProcessResult(
            status: process.isRunning ? -1 : process.terminationStatus,
            stdout: (try? String(contentsOf: stdoutURL, encoding: .utf8)) ?? "",
            stderr: (try? String(contentsOf: stderrURL, encoding: .utf8)) ?? "")
    }

    func signal(_ signal: Int32) { kill(process.processIdentifier, signal) }

    deinit {
        if process.isRunning { process.terminate() }
    }
}

/// Runs `flexpost ARGS` to completion.
func flexpost(_ arguments: [String], environment: [String: String], directory: URL, stdin: Data? = nil) async throws
    -> ProcessResult
{
    try await ChildProcess(
        executable: TestEnvironment.binary, arguments: arguments, environment: environment, directory: directory,
        stdin: stdin
    ).wait()
}

/// Waits until `condition` holds, checking every 50 ms; fails naming `what` after `seconds`.
func waitUntil(_ what: String, seconds: Double = 30, _ condition: () async throws -> Bool) async throws {
    let deadline = Date().addingTimeInterval(seconds)
    while Date() < deadline {
        if try await condition() { return }
        try await Task.sleep(for: .milliseconds(50))
    }
    throw TestFailure("timed out after \(seconds) s waiting until \(what)")
}
