import Foundation
import Testing
@testable import FlexpostTestSupport

/// The support console in a real headless browser (Debian's Chromium, Selenium).
@Suite("support console in a browser")
struct SupportConsoleTests {
    @Test("look-up, resend with a reason, hold and release, cancel one delivery, refusal without the token, no secret on any page")
    func browser() async throws {
        let dir = try TestEnvironment.temporaryDirectory("console")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_SUPPORT_TOKEN"] = "console-token-4711"
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        // An order confirmed now: its access data waits for tomorrow morning (hold, release, cancel).
        let now = ISO8601DateFormatter().string(from: Date())
        let scheduled = EventEditing.data("order-second-base-package.json", [("data.confirmedAt", now)])
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: scheduled).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)
        var browserEnv = ProcessInfo.processInfo.environment
        browserEnv["SCHEDULED_ORDER_ID"] = "ORD-2026-004712"
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/console_browser_test.py").path
        let result = try await ChildProcess(
            executable: "/usr/bin/python3",
            arguments: [script, serve.base, "console-token-4711", "ORD-2026-004711", dir.path, "s7Qp-Lx2r-9vTm"],
            environment: browserEnv, directory: dir
        ).wait()
        _ = await serve.terminate()
        #expect(result.status == 0, "browser steps:\n\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count >= 19, "\(result.stdout)")
        let status = try await flexpost(["status", "ORD-2026-004711"], environment: env, directory: dir)
        #expect(status.stdout.contains("agent.browser\tresend\tadmin-notice by agent.browser: administrator lost the notice"))
    }

    @Test("a team in the browser: keyboard sign-in, search, why, an agent's resend, CSRF-less POST, overview, sign-out and replay, a viewer refused, German pages; screenshots of each")
    func team() async throws {
        let dir = try TestEnvironment.temporaryDirectory("console-team")
        var env = TestEnvironment.baseEnvironment()
        var lines: [String] = []
        for (name, role) in [("anna", "agent"), ("vera", "viewer")] {
            let made = try await flexpost(["support-user", name, "--role", role], environment: env, directory: dir,
                                          stdin: Data("\(name)-correct-horse-battery\n".utf8))
            #expect(made.status == 0, "\(made.stderr)")
            lines.append(made.stdout.trimmingCharacters(in: .whitespacesAndNewlines))
        }
        let users = dir.appendingPathComponent("support-users")
        try (lines.joined(separator: "\n") + "\n").write(to: users, atomically: true, encoding: .utf8)
        env["FLEXPOST_SUPPORT_USERS"] = users.path
        #expect(try await flexpost(["enqueue", TestEnvironment.fixture("order-second-site.json")], environment: env, directory: dir).status == 0)
        // The order under test is confirmed now: its access data waits for tomorrow (a "why" to show).
        let now = ISO8601DateFormatter().string(from: Date())
        let scheduled = EventEditing.data("order-second-base-package.json", [("data.confirmedAt", now)])
        #expect(try await flexpost(["enqueue", "-"], environment: env, directory: dir, stdin: scheduled).status == 0)
        let serve = try await ServeProcess(environment: env, directory: dir)
        // The administrator notice goes at once: sent mail for the chart, and a notice to resend.
        try await waitUntil("the administrator notice sent") {
            try await flexpost(["list", "--state", "sent", "--json"], environment: env, directory: dir).stdout
                .contains("ORD-2026-004712")
        }
        var browserEnv = ProcessInfo.processInfo.environment
        browserEnv["AGENT"] = "anna:anna-correct-horse-battery"
        browserEnv["VIEWER"] = "vera:vera-correct-horse-battery"
        let script = TestEnvironment.packageRoot.appendingPathComponent("Tests/Support/console_team_browser_test.py").path
        let result = try await ChildProcess(
            executable: "/usr/bin/python3",
            arguments: [script, serve.base, "ORD-2026-004712", "5500123456", "040 5550101", dir.path],
            environment: browserEnv, directory: dir
        ).wait()
        _ = await serve.terminate()
        #expect(result.status == 0, "browser steps:\n\(result.stdout)\(result.stderr)")
        #expect(!result.stdout.contains("FAIL"))
        #expect(result.stdout.split(separator: "\n").filter { $0.hasPrefix("ok ") }.count >= 25, "\(result.stdout)")
        for page in ["login", "home", "search", "order", "resent", "overview", "signed-out", "viewer-refused",
                     "login-de", "home-de", "order-de", "overview-de"] {
            #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("\(page).png").path), "\(page).png")
        }
        let status = try await flexpost(["status", "ORD-2026-004712"], environment: env, directory: dir)
        #expect(status.stdout.contains("anna\tresend\tadmin-notice by anna: administrator lost the notice"), "\(status.stdout)")
        #expect(!status.stdout.contains("viewer tries") && !status.stdout.contains("forged"))
    }
}
