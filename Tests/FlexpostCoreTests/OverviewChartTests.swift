import FlexpostCore
import Foundation
import Testing

/// SPEC §7 overview: the last 24 hours, drawn as SVG on the server.
@Suite struct OverviewChartTests {
    @Test("24 hours oldest first with zeros filled in; one bar per series and hour, each with a title; only numbers and labels inside")
    func chart() throws {
        let now = RFC3339.parse("2026-12-01T10:20:00Z")!
        let counts = [HourlyOutcome(hour: RFC3339.parse("2026-12-01T10:00:00Z")!, sent: 40, dead: 1, bounced: 2),
                      HourlyOutcome(hour: RFC3339.parse("2026-11-30T11:00:00Z")!, sent: 5),
                      HourlyOutcome(hour: RFC3339.parse("2026-11-30T10:00:00Z")!, sent: 99)]  // 25 hours ago: left out
        let day = OverviewChart.lastDay(counts, now: now)
        #expect(day.count == 24 && day.first?.hour == RFC3339.parse("2026-11-30T11:00:00Z") && day.first?.sent == 5)
        #expect(day.last == counts[0] && day.dropFirst().dropLast().allSatisfy { $0.sent + $0.dead + $0.bounced == 0 })
        let svg = OverviewChart.svg(day) { RFC3339.format($0) }
        #expect(svg.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\"") && svg.hasSuffix("</svg>"))
        #expect(svg.components(separatedBy: "<rect ").count - 1 == 24 * 3 + 3, "72 bars and 3 legend keys")
        #expect(svg.contains("<title>2026-12-01T10:00:00Z sent: 40</title>") && svg.contains("<title>2026-12-01T10:00:00Z bounced: 2</title>"))
        #expect(svg.contains("(highest 40)") && !svg.contains("<script"))
        // The tallest bar fills the plot; an empty hour draws nothing.
        #expect(svg.contains(##"height="180.0" fill="#3a7d44"><title>2026-12-01T10:00:00Z sent: 40"##))
        #expect(svg.contains(##"height="0.0" fill="#b23a3a"><title>2026-11-30T12:00:00Z dead: 0"##))
    }
}
