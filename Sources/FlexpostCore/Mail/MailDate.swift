import Foundation

/// The RFC 5322 `Date` header form, in English: `Tue, 01 Dec 2026 08:00:00 +0100`.
public enum MailDate {
    static let days = ["Thu", "Fri", "Sat", "Sun", "Mon", "Tue", "Wed"]
    static let months = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]

    public static func format(_ date: Date, timeZone: TimeZone) -> String {
        let offset = timeZone.secondsFromGMT(for: date)
        let local = Int(date.timeIntervalSince1970.rounded(.down)) + offset
        let dayNumber = local >= 0 ? local / 86_400 : (local - 86_399) / 86_400
        let secs = local - dayNumber * 86_400
        let (y, m, d) = RFC3339.civilFromDays(dayNumber)
        let weekday = days[((dayNumber % 7) + 7) % 7]
        let sign = offset < 0 ? "-" : "+"
        let off = abs(offset) / 60
        let time = "\((secs / 3600).zeroPadded(2)):\((secs / 60 % 60).zeroPadded(2)):\((secs % 60).zeroPadded(2))"
        let zone = (off / 60).zeroPadded(2) + (off % 60).zeroPadded(2)
        return "\(weekday), \(d.zeroPadded(2)) \(months[m - 1]) \(y.zeroPadded(4)) \(time) \(sign)\(zone)"
    }
}
