import FlexpostCore
import Foundation

/// libFuzzer target: any bytes through the event decoder; what it accepts
/// goes through the rules and the MIME builder, and every message must be
/// 7-bit, CRLF-only, with lines of at most 998 octets and no injected header.
enum FuzzEventDecoder {
    static let composer: MailComposer = {
        let directory = ProcessInfo.processInfo.environment["FLEXPOST_TEMPLATES"] ?? "templates"
        var sources: [String: String] = [:]
        for name in MailTemplates.requiredFileNames {
            sources[name] = try! String(contentsOfFile: directory + "/" + name, encoding: .utf8)
        }
        return MailComposer(
            templates: try! MailTemplates(sources: sources),
            sender: Contact(name: "CompanyFlex", email: try! EmailAddress(validating: "noreply@companyflex.example")),
            timeZone: TimeZone(identifier: "Europe/Berlin")!)
    }()
    static let planner = DeliveryPlanner(
        schedule: AccessDataSchedule(timeZone: TimeZone(identifier: "Europe/Berlin")!, sendAt: LocalTime("08:00")!),
        messageIDDomain: "companyflex.example")

    /// Whatever flexpost's strict parser accepts, Foundation's must accept
    /// with the same canonical bytes (numbers with long mantissas aside, which
    /// Foundation reads through `Decimal`); what only Foundation accepts must
    /// break a strict rule. Foundation also guesses UTF-16 and UTF-32 from zero
    /// bytes and byte-order marks; flexpost reads UTF-8 only, so such inputs
    /// are left out.
    static func checkParser(_ bytes: [UInt8]) {
        if bytes.count >= 2, bytes[0] == 0 || bytes[1] == 0 || (bytes[0] == 0xFE && bytes[1] == 0xFF)
            || (bytes[0] == 0xFF && bytes[1] == 0xFE)
        {
            return
        }
        let reference = (try? JSONSerialization.jsonObject(with: Data(bytes))).map { JSONValue($0).canonicalBytes }
        do {
            let ours = try JSONValue.parse(bytes).canonicalBytes
            guard let reference else { fatalError("accepted what Foundation refuses: \(bytes)") }
            if ours != reference, !bytes.contains(where: { $0 == UInt8(ascii: ".") || $0 | 0x20 == UInt8(ascii: "e") }) {
                fatalError("JSON parser and Foundation read \(bytes) differently: \(ours) vs \(reference)")
            }
        } catch {
            if reference != nil, error.problem == .grammar {
                fatalError("refused at byte \(error.offset) what Foundation accepts: \(bytes)")
            }
        }
    }

    static func check(_ bytes: [UInt8]) {
        checkParser(bytes)
        guard let decoded = try? EventDecoder().decode(bytes) else { return }
        guard case .orderConfirmed(let order) = decoded.event else { return }
        for active in [false, true] {
            for delivery in planner.plan(order, portalKnownActive: active).deliveries {
                let content: any MailContent = delivery.kind == .accessData
                    ? AccessDataMail(order: order, portalActive: active)
                    : AdministratorNotice(order: order, administrator: delivery.recipient)
                guard let message = try? composer.compose(
                    content, to: delivery.recipient, language: delivery.language, messageID: delivery.messageID,
                    date: delivery.dueAt)
                else { continue }
                // Validated input must always render.
                guard let wire = try? message.render() else { fatalError("validated order did not render") }
                if let problem = WireFormat.violation(in: wire) { fatalError("MIME rule broken: \(problem)") }
                let head = String(decoding: wire, as: UTF8.self).components(separatedBy: "\r\n\r\n")[0]
                for line in head.components(separatedBy: "\r\n") where !line.hasPrefix(" ") {
                    guard let colon = line.firstIndex(of: ":"), !line[..<colon].contains(" ") else {
                        fatalError("not a header line: \(line)")
                    }
                }
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEventDecoder(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    FuzzEventDecoder.check(Array(UnsafeRawBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver; SwiftPM names an executable's entry `FuzzEventDecoder_main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt) -> CInt

@_cdecl("FuzzEventDecoder_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzEventDecoder(data, size) }
}
