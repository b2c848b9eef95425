@testable import FlexpostCore
import Foundation
import Testing

/// R1: the access-data e-mail is due on the next local calendar day at the send time.
@Suite("R1 access-data schedule")
struct AccessDataScheduleTests {
    let berlin = AccessDataSchedule(timeZone: TimeZone(identifier: "Europe/Berlin")!, sendAt: LocalTime("08:00")!)

    @Test("next local day at 08:00, across DST changes and local midnight", arguments: [
        // plain winter day: the sample order
        ("2026-11-30T15:12:00+01:00", "2026-12-01T07:00:00Z"),
        // spring forward 2026 (29 March): 08:00 CEST is 06:00 UTC
        ("2026-03-28T12:00:00+01:00", "2026-03-29T06:00:00Z"),
        ("2026-03-29T01:30:00+01:00", "2026-03-30T06:00:00Z"),
        ("2026-03-29T12:00:00+02:00", "2026-03-30T06:00:00Z"),
        // fall back 2026 (25 October): 08:00 CET is 07:00 UTC
        ("2026-10-24T12:00:00+02:00", "2026-10-25T07:00:00Z"),
        ("2026-10-25T02:30:00+01:00", "2026-10-26T07:00:00Z"),
        // 2027: 28 March and 31 October
        ("2027-03-27T23:59:00+01:00", "2027-03-28T06:00:00Z"),
        ("2027-10-30T09:00:00+02:00", "2027-10-31T07:00:00Z"),
        // just before and just after local midnight
        ("2026-11-30T23:59:59+01:00", "2026-12-01T07:00:00Z"),
        ("2026-12-01T00:00:00+01:00", "2026-12-02T07:00:00Z"),
        // given in UTC: 23:30Z is already 00:30 the next local day
        ("2026-11-30T22:59:00Z", "2026-12-01T07:00:00Z"),
        ("2026-11-30T23:30:00Z", "2026-12-02T07:00:00Z"),
        // year end
        ("2026-12-31T18:00:00+01:00", "2027-01-01T07:00:00Z"),
    ])
    func dueNextLocalDay(confirmedAt: String, expected: String) {
        let due = berlin.dueDate(confirmedAt: RFC3339.parse(confirmedAt)!)
        #expect(RFC3339.format(due) == expected)
    }

    @Test("one schedule asked about many days in any order answers as the calculation does (its last-day memo)")
    func memo() {
        var random = SplitMix(seed: 42)
        for zone in ["Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana", "Asia/Kolkata"] {
            let schedule = AccessDataSchedule(timeZone: TimeZone(identifier: zone)!, sendAt: LocalTime("08:00")!)
            // Every 20 minutes for three days around each 2026 DST change (EU, US, Lord Howe) and
            // an ordinary day: short and long days are where a wrong day range would show.
            var instants: [Date] = []
            for base in [1_774_742_400.0, 1_792_886_400.0, 1_772_928_000.0, 1_793_491_200.0, 1_775_347_200.0,
                         1_791_072_000.0, 1_795_996_800.0] {
                for step in stride(from: -86_400.0, to: 2 * 86_400, by: 1_200) {
                    instants.append(Date(timeIntervalSince1970: base + step + Double(random.below(1_200))))
                }
            }
            for _ in 0..<3 {
                for index in instants.indices.reversed() { instants.swapAt(index, random.below(index + 1)) }
                for instant in instants {
                    #expect(schedule.dueDate(confirmedAt: instant) == schedule.computeDueDate(confirmedAt: instant),
                            "\(zone) \(instant)")
                }
            }
            // In time order, as orders arrive, the same holds (mostly answered from the memo).
            for instant in instants.sorted() {
                #expect(schedule.dueDate(confirmedAt: instant) == schedule.computeDueDate(confirmedAt: instant))
            }
        }
    }

    @Test("another time zone and send time")
    func otherZone() {
        let schedule = AccessDataSchedule(timeZone: TimeZone(identifier: "America/New_York")!, sendAt: LocalTime("09:30")!)
        // 2026-11-01 is the US fall-back day: 09:30 EST is 14:30 UTC
        let due = schedule.dueDate(confirmedAt: RFC3339.parse("2026-10-31T20:00:00-04:00")!)
        #expect(RFC3339.format(due) == "2026-11-01T14:30:00Z")
    }

    @Test("send-at parsing")
    func localTimeParsing() {
        #expect(LocalTime("08:00") == LocalTime(hour: 8, minute: 0))
        #expect(LocalTime("24:00") == nil)
        #expect(LocalTime("8:00") == nil)
        #expect(LocalTime("08:60") == nil)
    }

    @Test("RFC 3339 parsing is strict")
    func rfc3339() {
        #expect(RFC3339.parse("2026-11-30T15:12:00+01:00")?.timeIntervalSince1970 == 1_796_047_920)
        #expect(RFC3339.parse("2026-11-30T14:12:00.5Z")?.timeIntervalSince1970 == 1_796_047_920.5)
        #expect(RFC3339.parse("2026-11-30T15:12:00") == nil)  // no offset
        #expect(RFC3339.parse("2026-02-30T15:12:00Z") == nil)
        #expect(RFC3339.parse("2026-11-30 15:12:00Z") == nil)
        #expect(RFC3339.parse("yesterday") == nil)
    }
}
