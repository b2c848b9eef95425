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
    /// The templates the compiled renderer covers, by file name; the others
    /// are rendered by swift-mustache.
    private let compiled: [String: CompiledTemplate]

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
        var compiled: [String: CompiledTemplate] = [:]
        for name in Self.requiredFileNames {
            guard var source = sources[name] else { throw TemplateError(name: name, problem: "missing") }
            if source.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
                throw TemplateError(name: name, problem: "empty")
            }
            // Subjects and text parts must not be HTML-escaped.
            if !name.hasSuffix(".html.mustache") && !source.hasPrefix("{{% CONTENT_TYPE: TEXT}}") {
                source = "{{% CONTENT_TYPE: TEXT}}\n" + source
            }
            let template: MustacheTemplate
            do {
                template = try MustacheTemplate(string: source)
            } catch {
                throw TemplateError(name: name, problem: "does not parse (\(error))")
            }
            library.register(template, named: name)
            compiled[name] = CompiledTemplate(template)
        }
        self.library = library
        self.compiled = compiled
    }

    /// Renders one part. The view's values are the only data that reach the mail.
    public func render(_ kind: DeliveryKind, _ language: Language, _ part: Part, view: TemplateView) -> String {
        let name = Self.fileName(kind, language, part)
        if let template = compiled[name] {
            return template.render(view)
        }
        return library.render(view.mustacheValue, withTemplate: name) ?? ""
    }

    /// Renders one part with swift-mustache alone (the reference the compiled renderer is checked against).
    func renderWithMustache(_ kind: DeliveryKind, _ language: Language, _ part: Part, view: TemplateView) -> String {
        library.render(view.mustacheValue, withTemplate: Self.fileName(kind, language, part)) ?? ""
    }

    /// The file names of the templates swift-mustache renders because they use
    /// features the compiled renderer does not cover (partials, transforms, …).
    public var renderedByMustache: [String] {
        Self.requiredFileNames.filter { compiled[$0] == nil }
    }
}
