import Foundation
import Testing

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
}
