@testable import FlexpostCore
import Foundation
import Mustache
import Testing

/// The compiled renderer against swift-mustache itself: same bytes for the
/// shipped templates with real orders, and for generated templates that mix
/// every covered feature with standalone lines, escaping and nesting.
@Suite("compiled templates render exactly as swift-mustache")
struct CompiledTemplateTests {
    @Test("shipped templates: every one compiled, same output for every fixture order, kind, language and account state")
    func shippedTemplates() throws {
        let templates = try MailComposerTests.templates()
        #expect(templates.renderedByMustache.isEmpty)
        let dates = { (language: Language) in LocalDateFormat(timeZone: TimeZone(identifier: "Europe/Berlin")!, language: language) }
        var compared = 0
        for name in try FileManager.default.contentsOfDirectory(atPath: Fixtures.root.appendingPathComponent("events").path)
        where name.hasPrefix("order-") {
            guard case .orderConfirmed(let order)? = try? EventDecoder().decode(Fixtures.event(name)).event else { continue }
            let administrator = order.portal.administrators.first ?? order.customer.contact
            let contents: [any MailContent] = [
                AccessDataMail(order: order, portalActive: true), AccessDataMail(order: order, portalActive: false),
                AdministratorNotice(order: order, administrator: administrator),
            ]
            for content in contents {
                for language in Language.allCases {
                    let view = content.view(dates: dates(language))
                    for part in MailTemplates.Part.allCases {
                        let fast = templates.render(content.kind, language, part, view: view)
                        let reference = templates.renderWithMustache(content.kind, language, part, view: view)
                        #expect(fast == reference, "\(name) \(content.kind) \(language) \(part)")
                        #expect(!fast.isEmpty)
                        compared += 1
                    }
                }
            }
        }
        #expect(compared >= 36)
    }

    @Test("generated templates: 600 random templates and views, byte for byte")
    func generatedTemplates() throws {
        var random = SplitMix(seed: 0x5EED_F1E7)
        for round in 0..<600 {
            let source = Generator.template(&random, depth: 0)
            let template = try MustacheTemplate(string: source)
            let compiled = try #require(CompiledTemplate(template), "not compiled: \(source.debugDescription)")
            for _ in 0..<3 {
                let view = Generator.view(&random)
                let fast = compiled.render(view)
                let reference = template.render(view.mustacheValue)
                #expect(fast == reference, "round \(round): \(source.debugDescription)")
                if fast != reference { return }
            }
        }
    }

    @Test("templates with partials or transforms fall back to swift-mustache and still render")
    func fallback() throws {
        var sources: [String: String] = [:]
        for name in MailTemplates.requiredFileNames {
            sources[name] = try String(contentsOf: Fixtures.templatesDirectory.appendingPathComponent(name), encoding: .utf8)
        }
        let transformed = MailTemplates.fileName(.adminNotice, .en, .subject)
        sources[transformed] = "New products for {{ uppercased(company) }}"
        let partial = MailTemplates.fileName(.adminNotice, .en, .text)
        sources[partial] = "Dear {{administratorName}}: {{> admin-notice.en.subject.mustache}}"
        let templates = try MailTemplates(sources: sources)
        #expect(Set(templates.renderedByMustache) == [transformed, partial])
        let view: TemplateView = ["company": "Müller & Söhne", "administratorName": "Eva"]
        #expect(templates.render(.adminNotice, .en, .subject, view: view) == "New products for MÜLLER & SÖHNE")
        #expect(templates.render(.adminNotice, .en, .text, view: view) == "Dear Eva: New products for MÜLLER & SÖHNE")
    }

    @Test("HTML escaping: the five characters swift-mustache escapes, nothing else")
    func escaping() {
        var output = ""
        CompiledTemplate.appendEscaped("a<b>c&d\"e'f ü€ plain", to: &output)
        #expect(output == "a&lt;b&gt;c&amp;d&quot;e&#39;f ü€ plain")
    }
}

/// Deterministic pseudo-random numbers, so a failure names a reproducible round.
struct SplitMix {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    mutating func below(_ n: Int) -> Int { Int(next() % UInt64(n)) }
    mutating func pick<T>(_ items: [T]) -> T { items[below(items.count)] }
}

enum Generator {
    static let texts = ["a", " ", "  ", "\n", "\r\n", "\t", "x y", "<&>\"'", "ü €", "Grundpaket ", "\n\n", " \n"]
    static let names = ["t", "e", "yes", "no", "items", "empty", "o", "o.t", "o.inner.t", "strs", "missing", ".", ".t",
                        "n", "o.missing", "items.t"]
    static let sectionNames = ["yes", "no", "items", "empty", "o", "o.inner", "strs", "missing", "t", "e", "n"]

    static func template(_ random: inout SplitMix, depth: Int) -> String {
        var source = ""
        for _ in 0..<random.below(7) + 1 {
            switch random.below(10) {
            case 0, 1: source += random.pick(texts)
            case 2: source += "{{\(random.pick(["", " "]))\(random.pick(names))\(random.pick(["", " "]))}}"
            case 3: source += "{{{\(random.pick(names))}}}"
            case 4: source += "{{& \(random.pick(names))}}"
            case 5: source += random.pick(["{{! a comment }}", "\n  {{! standalone }}\n", "{{% CONTENT_TYPE: TEXT}}",
                                           "{{% CONTENT_TYPE: HTML}}", "\n{{% CONTENT_TYPE: TEXT}}\n"])
            default:
                guard depth < 3 else { source += random.pick(texts); continue }
                let name = random.pick(sectionNames)
                let open = random.pick(["#", "^"])
                let standalone = random.below(2) == 0
                let (before, after) = standalone ? (random.pick(["\n", "\n  ", "\r\n"]), random.pick(["\n", "  \n", "\r\n"])) : ("", "")
                source += "\(before){{\(open)\(name)}}\(after)"
                source += template(&random, depth: depth + 1)
                source += "\(before){{/\(name)}}\(after)"
            }
        }
        return source
    }

    static func view(_ random: inout SplitMix) -> TemplateView {
        func text() -> TemplateValue { .text(random.pick(["plain", "", "Müller & Söhne", "<b>\"q\"</b>", "it's", "a\nb"])) }
        func item() -> TemplateValue {
            var fields: [String: TemplateValue] = ["t": text()]
            if random.below(2) == 0 { fields["n"] = .flag(random.below(2) == 0) }
            return .object(fields)
        }
        var view: TemplateView = [
            "t": text(), "e": "", "yes": true, "no": false, "empty": [],
            "items": .list((0..<random.below(4)).map { _ in item() }),
            "o": ["t": text(), "inner": ["t": text()]],
            "strs": .list((0..<random.below(3)).map { _ in text() }),
        ]
        if random.below(3) == 0 { view["n"] = .flag(random.below(2) == 0) }
        if random.below(4) == 0 { view["o"] = nil }
        return view
    }
}
