import FlexpostCore
import Foundation
import Testing

/// SPEC §7: local times for people, RFC 3339 UTC for machines.
@Suite struct LocalDisplayTimeTests {
    @Test("Berlin: German style with MEZ in winter and MESZ in summer, across the DST switch; elsewhere ISO with the offset")
    func formats() throws {
        let berlin = LocalDisplayTime(timeZone: TimeZone(identifier: "Europe/Berlin")!)
        #expect(berlin.format(RFC3339.parse("2026-12-01T07:00:00Z")!) == "01.12.2026 08:00 MEZ")
        #expect(berlin.format(RFC3339.parse("2026-07-01T06:00:00Z")!) == "01.07.2026 08:00 MESZ")
        // 29 March 2026: 02:00 MEZ becomes 03:00 MESZ.
        #expect(berlin.format(RFC3339.parse("2026-03-29T00:59:00Z")!) == "29.03.2026 01:59 MEZ")
        #expect(berlin.format(RFC3339.parse("2026-03-29T01:00:00Z")!) == "29.03.2026 03:00 MESZ")
        #expect(berlin.format(rfc3339: "2026-12-01T07:00:00Z") == "01.12.2026 08:00 MEZ")
        #expect(berlin.format(rfc3339: "not a time") == "not a time")
        let newYork = LocalDisplayTime(timeZone: TimeZone(identifier: "America/New_York")!)
        #expect(newYork.format(RFC3339.parse("2026-12-01T07:00:00Z")!) == "2026-12-01 02:00 -05:00")
        let kolkata = LocalDisplayTime(timeZone: TimeZone(identifier: "Asia/Kolkata")!)
        #expect(kolkata.format(RFC3339.parse("2026-12-01T07:00:00Z")!) == "2026-12-01 12:30 +05:30")
    }
}
