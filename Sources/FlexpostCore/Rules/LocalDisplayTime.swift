import Foundation

/// SPEC §7: times as people read them, in `FLEXPOST_TIMEZONE`: German style
/// with the German zone name where that is the custom (`01.12.2026 08:00
/// MEZ`, `MESZ` in summer), ISO with the offset elsewhere (`2026-12-01 08:00
/// +01:00`). JSON keeps RFC 3339 UTC. Pure: the zone is given.
public struct LocalDisplayTime: Sendable {
    public let timeZone: TimeZone

    public init(timeZone: TimeZone) { self.timeZone = timeZone }

    /// Zones whose people write `dd.MM.yyyy` and call the zone MEZ/MESZ.
    static let centralEuropeanGerman: Set<String> = ["Europe/Berlin", "Europe/Vienna", "Europe/Zurich", "Europe/Busingen"]

    public func format(_ date: Date) -> String {
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        let c = calendar.dateComponents([.year, .month, .day, .hour, .minute], from: date)
        func two(_ value: Int?) -> String { String(format: "%02d", value ?? 0) }
        if Self.centralEuropeanGerman.contains(timeZone.identifier) {
            let zone = timeZone.isDaylightSavingTime(for: date) ? "MESZ" : "MEZ"
            return "\(two(c.day)).\(two(c.month)).\(c.year ?? 0) \(two(c.hour)):\(two(c.minute)) \(zone)"
        }
        let offset = timeZone.secondsFromGMT(for: date)
        let sign = offset < 0 ? "-" : "+"
        return "\(c.year ?? 0)-\(two(c.month))-\(two(c.day)) \(two(c.hour)):\(two(c.minute)) "
            + "\(sign)\(two(abs(offset) / 3_600)):\(two(abs(offset) % 3_600 / 60))"
    }

    /// An RFC 3339 text (as the reports carry) in local time; unchanged if it is not one.
    public func format(rfc3339 text: String) -> String {
        RFC3339.parse(text).map(format) ?? text
    }
}
