/// Which orders to resend after an incident that killed deliveries (a relay
/// that refused everything with 5xx for an hour): each order's mail of one
/// kind that died in the window, once, by R7's resend (new Message-ID, the
/// same recipients, actor and reason recorded, R2 decided again at sending).
/// Pure: the command reads the dead deliveries and each order's deliveries,
/// this decides.
public enum DeadLetterResend {
    public struct Item: Sendable, Equatable {
        public var orderId: String
        public var kind: DeliveryKind
        /// The dead deliveries of that order and kind in the window.
        public var dead: [Delivery]
        public var verdict: Verdict
    }

    public enum Verdict: Sendable, Equatable {
        case resend
        /// A later delivery of the same order and kind that is not dead (sent,
        /// or still on its way): the mail was resent already.
        case resentAlready(Delivery)
        /// The order was cancelled since (R5): nothing more is sent for it.
        case cancelled
        /// Access data whose secrets were purged (R8): R7 would refuse it.
        case secretsGone
    }

    /// An order as the plan needs it: its deliveries, and whether R5 or R8
    /// ended what may be sent for it.
    public struct Order: Sendable {
        public var deliveries: [Delivery]
        public var cancelled: Bool
        public var secretsPurged: Bool
        public init(deliveries: [Delivery], cancelled: Bool, secretsPurged: Bool) {
            self.deliveries = deliveries
            self.cancelled = cancelled
            self.secretsPurged = secretsPurged
        }
    }

    /// One item per order and kind, in the order their first delivery died.
    /// - Parameters:
    ///   - dead: dead deliveries in the window, oldest end first.
    ///   - kind: only this kind, or both.
    ///   - orders: each order in `dead` (one that is missing is skipped as cancelled).
    public static func plan(dead: [Delivery], kind: DeliveryKind?, orders: [String: Order]) -> [Item] {
        var items: [Item] = []
        var index: [String: Int] = [:]
        for delivery in dead where kind == nil || delivery.kind == kind {
            let key = delivery.orderId + "\u{0}" + delivery.kind.rawValue
            if let at = index[key] {
                items[at].dead.append(delivery)
                continue
            }
            index[key] = items.count
            items.append(Item(orderId: delivery.orderId, kind: delivery.kind, dead: [delivery], verdict: .resend))
        }
        for at in items.indices {
            let item = items[at]
            guard let order = orders[item.orderId], !order.cancelled else {
                items[at].verdict = .cancelled
                continue
            }
            let newestDead = item.dead.map(\.id).max() ?? 0
            if let later = order.deliveries.first(where: {
                $0.kind == item.kind && $0.id > newestDead && $0.state != .dead && $0.state != .cancelled
            }) {
                items[at].verdict = .resentAlready(later)
            } else if item.kind == .accessData && order.secretsPurged {
                items[at].verdict = .secretsGone
            }
        }
        return items
    }
}
