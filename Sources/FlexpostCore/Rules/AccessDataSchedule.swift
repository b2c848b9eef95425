import Foundation
import Synchronization

/// R1: when the access-data e-mail of an order is due.
///
/// The order's `confirmedAt` is read as a local date in the configured time
/// zone; the mail is due on the next calendar day at the configured local
/// time. Computed on local calendar dates, so a daylight-saving change
/// between the two days does not move the send time.
public struct AccessDataSchedule: Sendable {
    public let timeZone: TimeZone
    public let sendAt: LocalTime
    /// Built once: a `Calendar` per order was a measurable part of intake.
    private let calendar: Calendar
    /// The last local day asked about and its due date: orders arrive in time
    /// order, so nearly every order falls on the day before it.
    private let lastDay = LastDay()

    private final class LastDay: Sendable {
        struct Entry { let day: DateInterval; let due: Date }
        let entry = Mutex<Entry?>(nil)
    }

    public init(timeZone: TimeZone, sendAt: LocalTime) {
        self.timeZone = timeZone
        self.sendAt = sendAt
        var calendar = Calendar(identifier: .gregorian)
        calendar.timeZone = timeZone
        self.calendar = calendar
    }

    public func dueDate(confirmedAt: Date) -> Date {
        if let last = lastDay.entry.withLock({ $0 }), last.day.start <= confirmedAt, confirmedAt < last.day.end {
            return last.due
        }
        let due = computeDueDate(confirmedAt: confirmedAt)
        if let day = calendar.dateInterval(of: .day, for: confirmedAt) {
            lastDay.entry.withLock { $0 = LastDay.Entry(day: day, due: due) }
        }
        return due
    }

    func computeDueDate(confirmedAt: Date) -> Date {
        let orderDay = calendar.startOfDay(for: confirmedAt)
        let nextDay = calendar.date(byAdding: .day, value: 1, to: orderDay)!
        var components = calendar.dateComponents([.year, .month, .day], from: nextDay)
        components.hour = sendAt.hour
        components.minute = sendAt.minute
        components.second = 0
        // A send time inside a spring-forward gap moves to the first instant after it.
        return calendar.date(from: components)!
    }
}
