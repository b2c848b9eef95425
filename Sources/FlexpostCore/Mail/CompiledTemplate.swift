import Mustache

/// A template parsed by swift-mustache and rendered here, without the dynamic
/// casts and reflection swift-mustache performs for every name it looks up
/// (a quarter of `drain`'s CPU before; docs/benchmarks.md).
///
/// The token tree is swift-mustache's own (read once, at start-up), so the
/// parsing, standalone-line and whitespace rules are exactly its rules. The
/// render follows `MustacheTemplate.render` for the features used in mail
/// templates: variables, unescaped variables, sections, inverted sections,
/// dotted names, `.` and the `CONTENT_TYPE` pragma. A template that uses
/// anything else (partials, inheritance, transforms, custom content types), or
/// a swift-mustache whose token tree is not the expected one, is not compiled:
/// ``MailTemplates`` renders it with swift-mustache instead.
/// `CompiledTemplateTests` renders every shipped template and generated ones
/// both ways and compares the bytes.
struct CompiledTemplate: Sendable {
    enum Lookup: Sendable, Equatable {
        /// `{{.}}`: the innermost value.
        case current
        /// `{{a.b}}`: `a` from the innermost value that has it, then `b` inside it.
        case search([String])
        /// `{{.a.b}}`: from the innermost value only.
        case innermost([String])
    }

    indirect enum Node: Sendable {
        case text(String)
        case variable(Lookup, escaped: Bool)
        case section(Lookup, [Node], inverted: Bool)
        /// The `CONTENT_TYPE` pragma: HTML escaping on or off from here on.
        case contentType(html: Bool)
    }

    let nodes: [Node]

    /// nil when the template uses a feature the compiled renderer does not cover.
    init?(_ template: MustacheTemplate) {
        guard let nodes = Self.compile(template) else { return nil }
        self.nodes = nodes
    }

    func render(_ view: TemplateView) -> String {
        var output = ""
        output.reserveCapacity(2048)
        var stack: [TemplateValue] = [.object(view)]
        Self.render(nodes, html: true, stack: &stack, into: &output)
        return output
    }

    // MARK: rendering

    private static func render(_ nodes: [Node], html: Bool, stack: inout [TemplateValue], into output: inout String) {
        var html = html
        for node in nodes {
            switch node {
            case .text(let text):
                output += text
            case .variable(let lookup, let escaped):
                guard let value = resolve(lookup, in: stack) else { continue }
                if escaped && html {
                    appendEscaped(value.renderedText, to: &output)
                } else {
                    output += value.renderedText
                }
            case .section(let lookup, let body, inverted: false):
                switch resolve(lookup, in: stack) {
                case nil, .flag(false):
                    break
                case .flag(true):
                    render(body, html: html, stack: &stack, into: &output)
                case .list(let items):
                    for item in items {
                        stack.append(item)
                        render(body, html: html, stack: &stack, into: &output)
                        stack.removeLast()
                    }
                case let value?:
                    stack.append(value)
                    render(body, html: html, stack: &stack, into: &output)
                    stack.removeLast()
                }
            case .section(let lookup, let body, inverted: true):
                switch resolve(lookup, in: stack) {
                case nil, .flag(false):
                    render(body, html: html, stack: &stack, into: &output)
                case .list(let items) where items.isEmpty:
                    // swift-mustache renders an empty list's inverted section with the list pushed.
                    stack.append(.list([]))
                    render(body, html: html, stack: &stack, into: &output)
                    stack.removeLast()
                default:
                    break
                }
            case .contentType(let isHTML):
                html = isHTML
            }
        }
    }

    private static func resolve(_ lookup: Lookup, in stack: [TemplateValue]) -> TemplateValue? {
        switch lookup {
        case .current:
            return stack.last
        case .innermost(let names):
            return descend(names[...], from: stack[stack.count - 1])
        case .search(let names):
            guard let first = names.first else { return stack.last }
            for value in stack.reversed() {
                if case .object(let fields) = value, let child = fields[first] {
                    return descend(names.dropFirst(), from: child)
                }
            }
            return nil
        }
    }

    private static func descend(_ names: ArraySlice<String>, from value: TemplateValue) -> TemplateValue? {
        var value = value
        for name in names {
            guard case .object(let fields) = value, let child = fields[name] else { return nil }
            value = child
        }
        return value
    }

    static func appendEscaped(_ text: String, to output: inout String) {
        var text = text
        let needsEscaping = text.withUTF8 { bytes in
            bytes.contains { $0 == 0x3C || $0 == 0x3E || $0 == 0x26 || $0 == 0x22 || $0 == 0x27 }
        }
        guard needsEscaping else {
            output += text
            return
        }
        var escaped: [UInt8] = []
        escaped.reserveCapacity(text.utf8.count + 16)
        for byte in text.utf8 {
            switch byte {
            case 0x3C: escaped += "&lt;".utf8
            case 0x3E: escaped += "&gt;".utf8
            case 0x26: escaped += "&amp;".utf8
            case 0x22: escaped += "&quot;".utf8
            case 0x27: escaped += "&#39;".utf8
            default: escaped.append(byte)
            }
        }
        output += String(decoding: escaped, as: UTF8.self)
    }

    // MARK: compiling swift-mustache's token tree

    private static func compile(_ template: MustacheTemplate) -> [Node]? {
        guard let tokens = Mirror(reflecting: template).children.first(where: { $0.label == "tokens" })?.value,
            Mirror(reflecting: tokens).displayStyle == .collection
        else { return nil }
        var nodes: [Node] = []
        for token in Mirror(reflecting: tokens).children.map(\.value) {
            guard let node = compileToken(token) else { return nil }
            nodes.append(node)
        }
        return nodes
    }

    private static func compileToken(_ token: Any) -> Node? {
        let mirror = Mirror(reflecting: token)
        guard mirror.displayStyle == .enum, let payload = mirror.children.first, let label = payload.label else {
            return nil
        }
        let fields = Mirror(reflecting: payload.value).children.map(\.value)
        switch label {
        case "text":
            guard let text = payload.value as? String else { return nil }
            return .text(text)
        case "variable", "unescapedVariable":
            guard fields.count == 2, let name = fields[0] as? String, let transforms = fields[1] as? [String],
                transforms.isEmpty, let lookup = lookup(name)
            else { return nil }
            return .variable(lookup, escaped: label == "variable")
        case "section", "invertedSection":
            guard fields.count == 3, let name = fields[0] as? String, let transforms = fields[1] as? [String],
                transforms.isEmpty, let lookup = lookup(name), let body = fields[2] as? MustacheTemplate,
                let nodes = compile(body)
            else { return nil }
            return .section(lookup, nodes, inverted: label == "invertedSection")
        case "contentType":
            guard let contentType = payload.value as? any MustacheContentType else { return nil }
            let probe = "<>&\"'"
            switch contentType.escapeText(probe) {
            case probe: return .contentType(html: false)
            case "&lt;&gt;&amp;&quot;&#39;": return .contentType(html: true)
            default: return nil
            }
        default:
            // Partials, inheritance blocks and anything newer: swift-mustache renders those.
            return nil
        }
    }

    /// The name rules of swift-mustache's `getChild`.
    private static func lookup(_ name: String) -> Lookup? {
        if name == "." { return .current }
        let names = name.split(separator: ".").map(String.init)
        if name.first == "." { return .innermost(names) }
        return .search(names)
    }
}

/// HTML escaping of `<`, `>`, `&`, `"` and `'`, byte by byte, for the mail and
/// the console alike: swift-mustache's own compares whole characters, so a
/// quote followed by a combining mark (one character, `"\u{301}`) passed it
/// unescaped and could end an attribute.
public enum HTMLText {
    public static func escaped(_ text: String) -> String {
        var output = ""
        CompiledTemplate.appendEscaped(text, to: &output)
        return output
    }
}
