import Foundation
import Testing
@testable import FlexpostTestSupport

/// Slowloris: connections that send half a request, stall a body or idle
/// after an answer are closed after FLEXPOST_HTTP_IDLE_TIMEOUT, while normal
/// requests are answered meanwhile.
@Suite("HTTP: slow clients")
struct SlowClientTests {
    /// A raw TCP connection to serve, to send exactly what a slow client sends.
    final class RawConnection {
        let fd: Int32

        init(port: Int) throws {
            fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            address.sin_port = UInt16(port).bigEndian
            let connected = withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
            }
            guard connected == 0 else { throw TestFailure("cannot connect to 127.0.0.1:\(port)") }
        }

        deinit { close(fd) }

        func send(_ text: String) {
            let bytes = Array(text.utf8)
            _ = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
        }

        /// Reads what has arrived; true once the server closed the connection.
        func closedByServer(received: inout String) -> Bool {
            var buffer = [UInt8](repeating: 0, count: 4096)
            while true {
                let count = recv(fd, &buffer, buffer.count, Int32(MSG_DONTWAIT))
                if count == 0 { return true }
                if count < 0 { return errno == ECONNRESET }
                received += String(decoding: buffer[..<count], as: UTF8.self)
            }
        }

        /// How long until the server closed it, checked every 50 ms; nil if it did not within `limit` seconds.
        func waitClosed(limit: Double) async throws -> (after: Double, received: String)? {
            let start = Date()
            var received = ""
            while Date().timeIntervalSince(start) < limit {
                if closedByServer(received: &received) { return (Date().timeIntervalSince(start), received) }
                try await Task.sleep(for: .milliseconds(50))
            }
            return nil
        }
    }

    @Test("half-sent headers, a body stalled after one byte and an idle keep-alive are closed after the idle timeout; a normal request is answered meanwhile")
    func stalledConnectionsClosed() async throws {
        let dir = try TestEnvironment.temporaryDirectory("slow-clients")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_HTTP_IDLE_TIMEOUT"] = "2s"
        let serve = try await ServeProcess(environment: env, directory: dir)
        let port = try #require(Int(serve.base.split(separator: ":").last ?? ""))

        let partial = try RawConnection(port: port)
        partial.send("POST /v1/events HTTP/1.1\r\nHost: flexpost\r\nContent-Type: appl")
        let stalled = try RawConnection(port: port)
        stalled.send("POST /v1/events HTTP/1.1\r\nHost: flexpost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        let idle = try RawConnection(port: port)
        idle.send("GET /healthz HTTP/1.1\r\nHost: flexpost\r\n\r\n")

        for _ in 0..<5 {
            #expect(try await HTTPClient.send("GET", serve.base + "/healthz").status == 200, "answered while three connections stall")
        }
        for (name, connection) in [("half-sent headers", partial), ("stalled body", stalled), ("idle keep-alive", idle)] {
            let closed = try await connection.waitClosed(limit: 10)
            #expect(closed != nil, "\(name): still open after 10 s")
            if let closed { #expect(closed.after < 6, "\(name): closed after \(closed.after) s") }
            if name == "idle keep-alive" { #expect(closed?.received.hasPrefix("HTTP/1.1 200") == true, "answered first") }
        }
        _ = await serve.terminate()
    }

    @Test("a body that trickles in a byte at a time, each within the idle timeout, is answered 408 and closed once the timeout has passed since the headers")
    func tricklingBodyCut() async throws {
        let dir = try TestEnvironment.temporaryDirectory("trickle-body")
        var env = TestEnvironment.baseEnvironment()
        env["FLEXPOST_HTTP_IDLE_TIMEOUT"] = "2s"
        let serve = try await ServeProcess(environment: env, directory: dir)
        let port = try #require(Int(serve.base.split(separator: ":").last ?? ""))
        let trickle = try RawConnection(port: port)
        trickle.send("POST /v1/events HTTP/1.1\r\nHost: flexpost\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
        let start = Date()
        var received = ""
        var closed = false
        // A byte every half second: the idle timeout alone would never close it.
        while Date().timeIntervalSince(start) < 15 && !closed {
            trickle.send(" ")
            try await Task.sleep(for: .milliseconds(500))
            closed = trickle.closedByServer(received: &received)
        }
        let after = Date().timeIntervalSince(start)
        #expect(closed && after < 8, "closed: \(closed) after \(after) s")
        #expect(received.hasPrefix("HTTP/1.1 408"), "\(received)")
        #expect(try await HTTPClient.send("GET", serve.base + "/healthz").status == 200)
        _ = await serve.terminate()
    }
}
