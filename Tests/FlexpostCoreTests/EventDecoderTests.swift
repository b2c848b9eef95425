import FlexpostCore
import Foundation
import Testing

/// SPEC §2 validation: the error names the JSON path and the rule.
@Suite("event decoding and validation")
struct EventDecoderTests {
    let decoder = EventDecoder()

    @Test("every sample event decodes", arguments: [
        "order-cancelled.json", "order-new-customer.json", "order-second-base-package.json", "order-second-site.json",
        "order-services-only.json", "portal-account-activated.json",
    ])
    func samples(_ name: String) throws {
        _ = try decoder.decode(Fixtures.event(name))
    }

    @Test("the second-site sample: fields, secrets apart from the document")
    func secondSite() throws {
        let decoded = try decoder.decode(Fixtures.event("order-second-site.json"))
        guard case .orderConfirmed(let order) = decoded.event else { Issue.record("wrong type"); return }
        #expect(order.orderId == "ORD-2026-004711")
        #expect(order.customer.language == .de)
        #expect(order.siteProducts.first?.access.lineId == "001234567890")
        #expect(order.secrets.accessPasswords["SP-300401"]?.exposedValue == "s7Qp-Lx2r-9vTm")
        let document = String(decoding: try JSONEncoder().encode(order), as: UTF8.self)
        #expect(!document.contains("s7Qp-Lx2r-9vTm"))
        #expect(decoded.event.naturalKey == "ORD-2026-004711")
    }

    /// Mutates the second-site sample and expects a rejection naming `field`.
    static func mutated(_ change: (inout [String: Any]) -> Void) -> [UInt8] {
        var object = Fixtures.eventObject("order-second-site.json")
        change(&object)
        return Fixtures.bytes(object)
    }

    static func setItem(_ object: inout [String: Any], _ index: Int, _ path: [String], _ value: Any?) {
        var data = object["data"] as! [String: Any]
        var items = data["items"] as! [[String: Any]]
        var item = items[index]
        if path.count == 1 {
            item[path[0]] = value
        } else {
            var inner = item[path[0]] as! [String: Any]
            inner[path[1]] = value
            item[path[0]] = inner
        }
        items[index] = item
        data["items"] = items
        object["data"] = data
    }

    static func setData(_ object: inout [String: Any], _ path: [String], _ value: Any?) {
        var data = object["data"] as! [String: Any]
        if path.count == 1 {
            data[path[0]] = value
        } else if path.count == 2 {
            var inner = data[path[0]] as! [String: Any]
            inner[path[1]] = value
            data[path[0]] = inner
        } else {
            var inner = data[path[0]] as! [String: Any]
            var innermost = inner[path[1]] as! [String: Any]
            innermost[path[2]] = value
            inner[path[1]] = innermost
            data[path[0]] = inner
        }
        object["data"] = data
    }

    @Test("rejections name the field", arguments: [
        ("missing password", "data.items[0].access.password"),
        ("CRLF in contact name", "data.customer.contact.name"),
        ("LF in subject-reaching company", "data.customer.company"),
        ("bad e-mail", "data.customer.contact.email"),
        ("unknown kind", "data.items[1].kind"),
        ("unknown language", "data.customer.language"),
        ("number as order id", "data.orderId"),
        ("confirmedAt without offset", "data.confirmedAt"),
        ("unknown status", "data.portal.accountStatus"),
        ("admin e-mail with CRLF", "data.portal.administrators[0].email"),
        ("phone number with letters", "data.items[0].phoneNumbers[1]"),
        ("items empty", "data.items"),
    ])
    func rejected(_ name: String, _ field: String) {
        let bytes = Self.mutated { object in
            switch name {
            case "missing password": Self.setItem(&object, 0, ["access", "password"], nil)
            case "CRLF in contact name": Self.setData(&object, ["customer", "contact", "name"], "Erika\r\nBcc: x@y.example")
            case "LF in subject-reaching company": Self.setData(&object, ["customer", "company"], "Müller\nSöhne")
            case "bad e-mail": Self.setData(&object, ["customer", "contact", "email"], "erika@")
            case "unknown kind": Self.setItem(&object, 1, ["kind"], "voucher")
            case "unknown language": Self.setData(&object, ["customer", "language"], "fr")
            case "number as order id": Self.setData(&object, ["orderId"], 4711)
            case "confirmedAt without offset": Self.setData(&object, ["confirmedAt"], "2026-11-30T15:12:00")
            case "unknown status": Self.setData(&object, ["portal", "accountStatus"], "locked")
            case "admin e-mail with CRLF":
                Self.setData(&object, ["portal", "administrators"], [["name": "A", "email": "a@b.example\r\nRCPT TO:<c@d.example>"]])
            case "phone number with letters": Self.setItem(&object, 0, ["phoneNumbers"], ["+49 1", "call me"])
            case "items empty": Self.setData(&object, ["items"], [])
            default: break
            }
        }
        #expect(throws: EventRejection.self) { try decoder.decode(bytes) }
        do {
            _ = try decoder.decode(bytes)
        } catch {
            #expect(error.field == field)
            #expect(!error.rule.isEmpty)
        }
    }

    @Test("unknown type, non-object bodies and bodies over 1 MiB are refused")
    func envelopeRejections() {
        var object = Fixtures.eventObject("order-second-site.json")
        object["type"] = "order.shipped"
        #expect(throws: EventRejection(field: "type", rule: "unknown event type; expected one of \"order.confirmed\", \"order.cancelled\", \"portal.account.activated\", \"customer.contact.changed\", \"portal.administrators.changed\"")) {
            try decoder.decode(Fixtures.bytes(object))
        }
        #expect(throws: EventRejection.self) { try decoder.decode(Array("[1,2]".utf8)) }
        #expect(throws: EventRejection.self) { try decoder.decode(Array("{".utf8)) }
        let huge = Array(repeating: UInt8(ascii: " "), count: 2 << 20)
        #expect(throws: EventRejection(field: "body", rule: "must be at most 1 MiB")) { try decoder.decode(huge) }
    }

    @Test("a new customer's site product must sit on a base package of the same order")
    func basePackageRule() throws {
        var object = Fixtures.eventObject("order-new-customer.json")
        Self.setItem(&object, 1, ["basePackageId"], "GP-999999")
        do {
            _ = try decoder.decode(Fixtures.bytes(object))
            Issue.record("accepted")
        } catch {
            #expect(error.field == "data.items[1].basePackageId")
        }
    }

    @Test("a pending account needs its one-time password")
    func pendingNeedsOTP() {
        var object = Fixtures.eventObject("order-new-customer.json")
        Self.setData(&object, ["portal", "oneTimePassword"], nil)
        #expect(throws: EventRejection.self) { try decoder.decode(Fixtures.bytes(object)) }
    }
}

@Suite("canonical JSON")
struct CanonicalJSONTests {
    @Test("keys sorted by bytes, no spacing, minimal escapes, integers as integers, booleans and null kept")
    func canonical() throws {
        let text = #"{ "z": [1, 2.5, true, false, null], "a": {"b\"q": "x/y\n\u00e9", "A": 10.0}, "É": -3 }"#
        let parsed = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let bytes = CanonicalJSON.bytes(parsed)
        #expect(String(decoding: bytes, as: UTF8.self)
            == #"{"a":{"A":10,"b\"q":"x/y\u000aé"},"z":[1,2.5,true,false,null],"É":-3}"#)
    }

    @Test("the same content in another key order and spacing gives the same bytes; other content does not")
    func orderIndependent() throws {
        let a = try JSONSerialization.jsonObject(with: Data(#"{"x":1,"y":{"p":"q","r":[1,2]}}"#.utf8))
        let b = try JSONSerialization.jsonObject(with: Data("{ \"y\" : { \"r\" : [1, 2], \"p\" : \"q\" },\n \"x\" : 1 }".utf8))
        let c = try JSONSerialization.jsonObject(with: Data(#"{"x":1,"y":{"p":"q","r":[2,1]}}"#.utf8))
        #expect(CanonicalJSON.bytes(a) == CanonicalJSON.bytes(b))
        #expect(CanonicalJSON.bytes(a) != CanonicalJSON.bytes(c))
    }
}
