import FlexpostCore
import Testing

@Suite struct LoopbackTests {
    @Test("loopback: localhost, ::1 and IPv4 literals in 127.0.0.0/8; names that start with 127. are not")
    func loopback() {
        for host in ["localhost", "LOCALHOST", "::1", "[::1]", "127.0.0.1", "127.255.0.9"] {
            #expect(Loopback.contains(host: host), "\(host)")
        }
        for host in ["127.relay.example", "127.0.0.1.nip.example", "127.0.0", "127.0.0.256", "0127.0.0.1", "128.0.0.1",
                     "relay.example", "localhost.example", "::2", "", "127.0.0.-1"] {
            #expect(!Loopback.contains(host: host), "\(host)")
        }
    }
}
