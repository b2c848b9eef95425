import Foundation

/// An order ready for the store: its secret-free document, the secrets to
/// keep (R2: no OTP for an active account), and the deliveries the rules want.
public struct OrderIntakePlan: Sendable {
    public var order: OrderConfirmation
    public var deliveries: [PlannedDelivery]
    /// Set when the order sends nothing (R4), for its history.
    public var note: String?

    /// The order's first history line: what was scheduled, or why nothing was.
    public func confirmation(at: Date) -> HistoryEntry {
        let summary = deliveries.map { "\($0.kind.rawValue) to \($0.recipient.email)" }
        return HistoryEntry(at: at, actor: SystemActor.orderSystem, action: .confirmed,
                            detail: note ?? "scheduled: " + summary.joined(separator: ", "))
    }
}

/// The rules R1 (access data next day), R2 (OTP only while pending, decided
/// here for storage and again at sending), R3 (administrator notice at once)
/// and R4 (services only: nothing) applied to one confirmed order.
public struct DeliveryPlanner: Sendable {
    public let schedule: AccessDataSchedule
    public let messageIDDomain: String

    public init(schedule: AccessDataSchedule, messageIDDomain: String) {
        self.schedule = schedule
        self.messageIDDomain = messageIDDomain
    }

    /// - Parameter portalKnownActive: whether an earlier event already said the
    ///   customer's portal account is active.
    public func plan(_ incoming: OrderConfirmation, portalKnownActive: Bool) -> OrderIntakePlan {
        var order = incoming
        let active = portalKnownActive || order.portal.accountStatus == .active
        if active {
            order.secrets.oneTimePassword = nil  // R2: discarded at intake, never stored.
        }
        var deliveries: [PlannedDelivery] = []
        let hasSiteProducts = !order.siteProducts.isEmpty
        if hasSiteProducts || !active {
            deliveries.append(PlannedDelivery(
                kind: .accessData, recipient: order.customer.contact, language: order.customer.language,
                dueAt: schedule.dueDate(confirmedAt: order.confirmedAt), messageID: newMessageID()))
        }
        if active && (hasSiteProducts || !order.basePackages.isEmpty) {
            var seen = Set<String>()
            for admin in order.portal.administrators where seen.insert(admin.email.value.lowercased()).inserted {
                deliveries.append(PlannedDelivery(
                    kind: .adminNotice, recipient: admin, language: order.customer.language,
                    dueAt: order.confirmedAt, messageID: newMessageID()))
            }
        }
        let note = deliveries.isEmpty ? "services only: nothing to send (R4)" : nil
        return OrderIntakePlan(order: order, deliveries: deliveries, note: note)
    }

    /// `<random UUID@domain>`: a version 4 UUID in lower case, from the
    /// system's random source (Foundation's `UUID()` opens `/dev/urandom` for
    /// every call; this is one `getrandom`).
    public func newMessageID() -> String {
        var random = SystemRandomNumberGenerator()
        return "<" + Self.uuidText(high: random.next(), low: random.next()) + "@" + messageIDDomain + ">"
    }

    static func uuidText(high: UInt64, low: UInt64) -> String {
        let high = (high & ~0xF000) | 0x4000  // version 4
        let low = (low & ~(0xC000 << 48)) | (0x8000 << 48)  // variant 10xx
        let bytes = withUnsafeBytes(of: high.bigEndian, Array.init) + withUnsafeBytes(of: low.bigEndian, Array.init)
        var text = Array(bytes.lowercaseHex.utf8)
        for position in [20, 16, 12, 8] { text.insert(UInt8(ascii: "-"), at: position) }
        return String(decoding: text, as: UTF8.self)
    }
}
