import Foundation

/// A message as the SMTP test server received it, with what Python's `email`
/// package (policy.default) parsed from it: an independent MIME check.
struct ReceivedMessage: Decodable {
    struct Part: Decodable {
        var type: String
        var charset: String?
        var transferEncoding: String?
        var content: String
    }
    var subject: String
    var from: String
    var to: String
    var messageId: String
    var date: String
    var dateParsed: String?
    var autoSubmitted: String
    var mimeVersion: String
    var contentType: String
    var parts: [Part]
    var defects: [String]
    var maxLineLength: Int
    var bareLF: Bool
    var eightBit: Bool
    var mailFrom: String
    var rcptTos: [String]
    var tls: Bool
    var authenticated: Bool
    /// The bytes as received.
    var raw: Data = Data()

    private enum CodingKeys: String, CodingKey {
        case subject, from, to, messageId, date, dateParsed, autoSubmitted, mimeVersion, contentType, parts, defects,
            maxLineLength, bareLF, eightBit, mailFrom, rcptTos, tls, authenticated
    }

    func part(_ type: String) -> String? { parts.first { $0.type == type }?.content }
}

/// Debian's aiosmtpd as a real SMTP server on loopback, started per test.
final class SMTPTestServer: @unchecked Sendable {
    // @unchecked Sendable: immutable after init except the child process, which
    // is only signalled.
    let directory: URL
    let port: Int
    let child: ChildProcess
    var caFile: String { directory.appendingPathComponent("cert.pem").path }

    struct Options {
        var tls = false
        var implicitTLS = false
        var oldTLS = false
        var requireTLS = false
        var auth: String? = nil
        var slowSeconds: Double? = nil
        /// Seconds before every DATA reply (a slow relay).
        var delaySeconds: Double? = nil
    }

    init(_ options: Options = Options()) async throws {
        directory = try TestEnvironment.temporaryDirectory("smtp")
        var arguments = [TestEnvironment.smtpServerScript, "--dir", directory.path]
        if options.tls { arguments.append("--tls") }
        if options.implicitTLS { arguments.append("--implicit-tls") }
        if options.oldTLS { arguments.append("--old-tls") }
        if options.requireTLS { arguments.append("--require-tls") }
        if let auth = options.auth { arguments += ["--auth", auth] }
        if let slow = options.slowSeconds { arguments += ["--slow", String(slow)] }
        if let delay = options.delaySeconds { arguments += ["--delay", String(delay)] }
        child = try ChildProcess(
            executable: "/usr/bin/python3", arguments: arguments, environment: ProcessInfo.processInfo.environment,
            directory: directory)
        let ready = directory.appendingPathComponent("ready")
        var port: Int?
        for _ in 0..<300 {
            if let text = try? String(contentsOf: ready, encoding: .utf8), let p = Int(text) {
                port = p
                break
            }
            try await Task.sleep(for: .milliseconds(50))
        }
        guard let port else {
            throw TestFailure("SMTP test server did not start: \(child.result().stderr)")
        }
        self.port = port
    }

    /// While on, every recipient is refused with 554 (a relay that refuses everything).
    func refuseEverything(_ on: Bool) throws {
        let flag = directory.appendingPathComponent("refuse")
        if on {
            try Data().write(to: flag)
        } else if FileManager.default.fileExists(atPath: flag.path) {
            try FileManager.default.removeItem(at: flag)
        }
    }

    /// Messages received so far, in order of arrival.
    func messages() throws -> [ReceivedMessage] {
        let names = try FileManager.default.contentsOfDirectory(atPath: directory.path)
            .filter { $0.hasSuffix(".json") }.sorted()
        return try names.map { name in
            var message = try JSONDecoder().decode(
                ReceivedMessage.self, from: Data(contentsOf: directory.appendingPathComponent(name)))
            message.raw = try Data(contentsOf: directory.appendingPathComponent(name.replacingOccurrences(of: ".json", with: ".eml")))
            return message
        }
    }

    /// Waits until at least `count` messages arrived (or the time is up).
    func waitForMessages(_ count: Int, seconds: Double = 20) async throws -> [ReceivedMessage] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let received = try messages()
            if received.count >= count { return received }
            try await Task.sleep(for: .milliseconds(50))
        }
        return try messages()
    }

    /// Waits until `count` distinct recipients got mail (duplicates do not count).
    func waitForRecipients(_ count: Int, seconds: Double = 60) async throws -> [ReceivedMessage] {
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            let received = try messages()
            if Set(received.flatMap(\.rcptTos)).count >= count { return received }
            try await Task.sleep(for: .milliseconds(100))
        }
        return try messages()
    }

    func stop() { child.signal(SIGTERM) }

    deinit { child.signal(SIGTERM) }
}

struct TestFailure: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
