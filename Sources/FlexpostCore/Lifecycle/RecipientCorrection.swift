import Foundation

/// A customer's recipients as the order system last gave them (SPEC §6);
/// nil fields: never changed, the orders' own recipients stand.
public struct CustomerRecipients: Sendable, Equatable {
    public var contact: Contact?
    public var contactChangedAt: Date?
    public var administrators: [Contact]?
    public var administratorsChangedAt: Date?

    public init(contact: Contact? = nil, contactChangedAt: Date? = nil, administrators: [Contact]? = nil,
                administratorsChangedAt: Date? = nil) {
        self.contact = contact
        self.contactChangedAt = contactChangedAt
        self.administrators = administrators
        self.administratorsChangedAt = administratorsChangedAt
    }

    public static let none = CustomerRecipients()

    /// How both stores keep a list of administrators: a JSON array of `{name, email}`.
    public static func storedText(_ administrators: [Contact]) -> String {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        return String(decoding: (try? encoder.encode(administrators)) ?? Data("[]".utf8), as: UTF8.self)
    }

    public static func administrators(storedText text: String, column: String) throws -> [Contact] {
        do {
            return try JSONDecoder().decode([Contact].self, from: Data(text.utf8))
        } catch {
            throw UnknownStoredValue(column: column, value: String(text.prefix(40)))
        }
    }

    /// The current recipients of one kind of mail, if the order system changed them.
    public func current(_ kind: DeliveryKind) -> [Contact]? {
        switch kind {
        case .accessData: contact.map { [$0] }
        case .adminNotice: administrators
        }
    }
}

/// SPEC §6: a recipient correction from the order system. Every delivery of
/// the customer of the affected kind that has not been sent yet goes to the
/// new recipients (a delivery on the wire is left to finish); later resends
/// (R7) go to them too; each order's history records old and new addresses.
/// A change older than the one already applied changes nothing.
public enum RecipientCorrection {
    /// - Returns: how many deliveries were re-addressed or replaced.
    public static func apply(_ change: RecipientChange, current: CustomerRecipients, orders: [OrderFacts], at: Date,
                             messageID: () -> String) -> Decision<Int> {
        let lastApplied = change.kind == .accessData ? current.contactChangedAt : current.administratorsChangedAt
        if let lastApplied, lastApplied >= change.changedAt { return Decision(0) }
        var changes: [QueueChange] = [.setRecipients(change)]
        var moved = 0
        let new = change.contacts
        let newText = new.map(\.email.value).joined(separator: ", ")
        for order in orders {
            // Found by the new addresses too.
            changes.append(.addSearchTerms(orderId: order.orderId, terms: new.map { OrderSearch.term($0.email.value) }))
            let unsent = order.deliveries.filter {
                $0.kind == change.kind && !$0.state.isFinal && $0.state != .sending
            }
            guard !unsent.isEmpty else { continue }
            let oldText = Array(Set(unsent.map(\.recipient.email.value))).sorted().joined(separator: ", ")
            switch change.recipients {
            case .contact(let contact):
                let readdressed = unsent.filter { $0.recipient != contact }
                guard !readdressed.isEmpty else { continue }
                changes.append(.readdress(deliveryIds: readdressed.map(\.id), to: contact))
                moved += readdressed.count
            case .administrators(let administrators):
                // One notice per administrator: the old ones end, new ones are due when the old were.
                changes.append(.finish(deliveryIds: unsent.map(\.id), state: .cancelled, at: at))
                let first = unsent.min { $0.dueAt < $1.dueAt }!
                changes.append(.schedule(orderId: order.orderId, deliveries: administrators.map {
                    NewDelivery(PlannedDelivery(kind: .adminNotice, recipient: $0, language: first.language,
                                                dueAt: first.dueAt, messageID: messageID()), isResend: false)
                }, at: at))
                moved += unsent.count
            }
            changes.append(.note(orderId: order.orderId, HistoryEntry(
                at: at, actor: SystemActor.orderSystem, action: .recipientsChanged,
                detail: "\(change.kind.rawValue) to \(newText) (was \(oldText)), changed \(RFC3339.format(change.changedAt))")))
        }
        return Decision(moved, changes: changes)
    }
}
