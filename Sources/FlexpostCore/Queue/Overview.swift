import Foundation

/// Mail that ended in one hour: sent, dead and bounced (SPEC §7 overview).
public struct HourlyOutcome: Sendable, Equatable {
    /// The hour's start.
    public var hour: Date
    public var sent: Int
    public var dead: Int
    public var bounced: Int

    public init(hour: Date, sent: Int = 0, dead: Int = 0, bounced: Int = 0) {
        self.hour = hour
        self.sent = sent
        self.dead = dead
        self.bounced = bounced
    }
}

/// The overview's chart, drawn on the server as SVG (no JavaScript; the
/// console's CSP stays `default-src 'none'`): one group of three bars per
/// hour of the last 24, with a title per bar for screen readers and hover.
/// Pure: every text in it is a number or a local time the caller formats.
public enum OverviewChart {
    /// The 24 hours ending with the one `now` is in, oldest first, zero where nothing ended.
    public static func lastDay(_ counts: [HourlyOutcome], now: Date) -> [HourlyOutcome] {
        let current = floor(now.timeIntervalSince1970 / 3_600) * 3_600
        let byHour = Dictionary(counts.map { ($0.hour.timeIntervalSince1970, $0) }, uniquingKeysWith: { a, _ in a })
        return (0..<24).map { back in
            let hour = current - Double(23 - back) * 3_600
            return byHour[hour] ?? HourlyOutcome(hour: Date(timeIntervalSince1970: hour))
        }
    }

    /// The chart, its title and legend in the console's language.
    public static func svg(_ hours: [HourlyOutcome], language: UILanguage = .english, label: (Date) -> String) -> String {
        let german = language == .german
        let width = 960, height = 240, top = 20, bottom = 40, left = 40
        let plot = Double(height - top - bottom)
        let highest = max(1, hours.map { max($0.sent, $0.dead, $0.bounced) }.max() ?? 1)
        let slot = Double(width - left) / Double(max(1, hours.count))
        let bar = max(1, (slot - 4) / 3)
        var parts = [
            ##"<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 \##(width) \##(height)" width="100%" role="img" aria-labelledby="chart-title">"##,
            german ? ##"<title id="chart-title">Gesendete, unzustellbare und zurückgewiesene E-Mails je Stunde, letzte 24 Stunden (höchstens \##(highest))</title>"##
                : ##"<title id="chart-title">Mail sent, dead and bounced per hour, last 24 hours (highest \##(highest))</title>"##,
            ##"<line x1="\##(left)" y1="\##(height - bottom)" x2="\##(width)" y2="\##(height - bottom)" stroke="#888"/>"##,
            ##"<text x="0" y="\##(top + 10)" font-size="12">\##(highest)</text>"##,
        ]
        let series: [(String, String, KeyPath<HourlyOutcome, Int>)] = [
            (german ? "gesendet" : "sent", "#3a7d44", \.sent), (german ? "unzustellbar" : "dead", "#b23a3a", \.dead),
            (german ? "zurückgewiesen" : "bounced", "#c98a1b", \.bounced),
        ]
        for (index, hour) in hours.enumerated() {
            let x0 = Double(left) + Double(index) * slot + 2
            for (offset, (name, color, path)) in series.enumerated() {
                let value = hour[keyPath: path]
                let h = plot * Double(value) / Double(highest)
                let x = x0 + Double(offset) * bar, y = Double(height - bottom) - h
                parts.append(String(format: ##"<rect x="%.1f" y="%.1f" width="%.1f" height="%.1f" fill="%@"><title>%@ %@: %d</title></rect>"##,
                                    x, y, bar, h, color, label(hour.hour), name, value))
            }
            if index % 3 == 0 {
                parts.append(String(format: ##"<text x="%.1f" y="%d" font-size="11">%@</text>"##, x0, height - bottom + 16, label(hour.hour)))
            }
        }
        for (offset, (name, color, _)) in series.enumerated() {
            let x = left + offset * 110
            parts.append(##"<rect x="\##(x)" y="\##(height - 12)" width="10" height="10" fill="\##(color)"/>"##)
            parts.append(##"<text x="\##(x + 14)" y="\##(height - 3)" font-size="12">\##(name)</text>"##)
        }
        parts.append("</svg>")
        return parts.joined(separator: "\n")
    }
}
