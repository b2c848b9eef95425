import FlexpostCore
import Mustache

extension SupportConsole {
    /// The console's page templates, loaded at start.
    public struct Pages: Sendable {
        let library: MustacheLibrary
        public static let names = ["layout", "login", "lookup", "order", "not-found", "search", "overview"]
        /// Every console template starts with this pragma: its values are then
        /// HTML-escaped byte by byte, like the mail's (``HTMLText/escaped(_:)``).
        public static let pragma = "{{% CONTENT_TYPE: BYTEWISE_HTML }}"

        /// swift-mustache's HTML content type escapes whole characters: a quote
        /// followed by a combining mark passed unescaped, and ended an attribute.
        struct BytewiseHTML: MustacheContentType {
            func escapeText(_ text: String) -> String { HTMLText.escaped(text) }
        }

        public init(sources: [String: String]) throws(MailTemplates.TemplateError) {
            MustacheContentTypes.register(BytewiseHTML(), named: "BYTEWISE_HTML")
            var library = MustacheLibrary()
            for name in Self.names {
                guard let source = sources[name] else { throw .init(name: "console/\(name).mustache", problem: "missing") }
                guard source.hasPrefix(Self.pragma) else {
                    throw .init(name: "console/\(name).mustache", problem: "must start with \(Self.pragma)")
                }
                do {
                    library.register(try MustacheTemplate(string: source), named: name)
                } catch {
                    throw .init(name: "console/\(name).mustache", problem: "does not parse (\(error))")
                }
            }
            self.library = library
        }

        func render(_ name: String, _ view: [String: Any]) -> String {
            library.render(view, withTemplate: name) ?? ""
        }
    }
}
