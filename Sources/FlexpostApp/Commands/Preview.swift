import ArgumentParser
import FlexpostCore
import Foundation

/// `flexpost preview FILE --kind ...`: renders an order's mail to stdout;
/// stores and sends nothing. For template authors.
struct Preview: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Render an order's e-mail to stdout; send nothing.")

    @Argument(help: "An order.confirmed event file (- = stdin).") var file: String
    @Option(help: "Which mail.") var kind: DeliveryKind

    func run() async throws {
        let data = try readInput(file)
        let configuration = try Configuration.fromEnvironment()
        let templates = try TemplateDirectory.load(configuration.templatesDirectory)
        let composer = MailComposer(templates: templates, sender: configuration.sender, timeZone: configuration.timeZone)
        let planner = DeliveryPlanner(
            schedule: AccessDataSchedule(timeZone: configuration.timeZone, sendAt: configuration.sendAt),
            messageIDDomain: configuration.sender.email.domain)
        let decoded: DecodedEvent
        do {
            decoded = try EventDecoder().decode(Array(data))
        } catch {
            FlexpostMain.printError("flexpost: invalid event: \(error.field) \(error.rule)")
            throw CommandExit(code: 1)
        }
        guard case .orderConfirmed(let order) = decoded.event else {
            FlexpostMain.printError("flexpost: preview needs an order.confirmed event")
            throw CommandExit(code: 1)
        }
        let plan = planner.plan(order, portalKnownActive: false)
        let wanted = plan.deliveries.filter { $0.kind == kind }
        if wanted.isEmpty {
            print("(no \(kind.rawValue) e-mail for this order)")
            return
        }
        for delivery in wanted {
            let content = DeliveryContent.make(
                delivery.kind, order: order, portalActive: order.portal.accountStatus == .active, recipient: delivery.recipient)
            let message = try composer.compose(
                content, to: delivery.recipient, language: delivery.language, messageID: delivery.messageID,
                date: delivery.dueAt)
            let bytes = try message.render()
            let headerEnd = String(decoding: bytes, as: UTF8.self).components(separatedBy: "\r\n\r\n").first ?? ""
            print(headerEnd.replacingOccurrences(of: "\r\n", with: "\n"))
            print("\n--- text/plain ---\n\(message.textBody)")
            print("--- text/html ---\n\(message.htmlBody)")
        }
    }
}
