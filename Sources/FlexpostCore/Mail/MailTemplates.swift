import Mustache

/// The parsed Mustache templates of every e-mail: one subject, text and HTML
/// template per kind and language (R6). Built once at start-up; a missing or
/// broken template is an error then, never at sending time.
public struct MailTemplates: Sendable {
    /// The three parts of one e-mail's templates.
    public enum Part: String, Sendable, CaseIterable {
        case subject, text, html
    }

    /// Why the templates cannot be used.
    public struct TemplateError: Error, Sendable, CustomStringConvertible {
        public let name: String
        public let problem: String
        public var description: String { "template \(name): \(problem)" }
        public init(name: String, problem: String) {
            self.name = name
            self.problem = problem
        }
    }

    private let library: MustacheLibrary

    /// The file name (without directory) of a template.
    public static func fileName(_ kind: DeliveryKind, _ language: Language, _ part: Part) -> String {
        "\(kind.rawValue).\(language.rawValue).\(part.rawValue).mustache"
    }

    /// Every file name that must exist.
    public static var requiredFileNames: [String] {
        DeliveryKind.allCases.flatMap { kind in
            Language.allCases.flatMap { language in Part.allCases.map { fileName(kind, language, $0) } }
        }
    }

    /// - Parameter sources: template source by file name; all of ``requiredFileNames`` must be present.
    public init(sources: [String: String]) throws(TemplateError) {
        var library = MustacheLibrary()
        for name in Self.requiredFileNames {
            guard var source = sources[name] else { throw TemplateError(name: name, problem: "missing") }
            if source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw TemplateError(name: name, problem: "empty")
            }
            // Subjects and text parts must not be HTML-escaped.
            if !name.hasSuffix(".html.mustache") && !source.hasPrefix("{{% CONTENT_TYPE: TEXT}}") {
                source = "{{% CONTENT_TYPE: TEXT}}\n" + source
            }
            do {
                library.register(try MustacheTemplate(string: source), named: name)
            } catch {
                throw TemplateError(name: name, problem: "does not parse (\(error))")
            }
        }
        self.library = library
    }

    /// Renders one part. The view's values are the only data that reach the mail.
    public func render(_ kind: DeliveryKind, _ language: Language, _ part: Part, view: [String: Any]) -> String {
        library.render(view, withTemplate: Self.fileName(kind, language, part)) ?? ""
    }
}
