/// A value a mail template can show: the typed form of a Mustache view.
/// Building views from these (instead of `[String: Any]`) lets the compiled
/// renderer look names up without dynamic casts.
public enum TemplateValue: Sendable, Equatable {
    case text(String)
    case flag(Bool)
    indirect case list([TemplateValue])
    indirect case object([String: TemplateValue])

    /// The same value as swift-mustache sees it (`String`, `Bool`, arrays,
    /// string-keyed dictionaries), for templates the compiled renderer does not cover.
    var mustacheValue: Any {
        switch self {
        case .text(let text): text
        case .flag(let flag): flag
        case .list(let items): items.map(\.mustacheValue)
        case .object(let fields): fields.mapValues(\.mustacheValue)
        }
    }

    /// What `{{name}}` prints for this value: the same text swift-mustache prints.
    var renderedText: String {
        switch self {
        case .text(let text): text
        case .flag(let flag): flag ? "true" : "false"
        case .list, .object: String(describing: mustacheValue)
        }
    }
}

/// The values of one e-mail's templates, by name.
public typealias TemplateView = [String: TemplateValue]

extension TemplateValue: ExpressibleByStringLiteral, ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral,
    ExpressibleByDictionaryLiteral
{
    public init(stringLiteral value: String) { self = .text(value) }
    public init(booleanLiteral value: Bool) { self = .flag(value) }
    public init(arrayLiteral elements: TemplateValue...) { self = .list(elements) }
    public init(dictionaryLiteral elements: (String, TemplateValue)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
}

extension TemplateView {
    /// The view as swift-mustache takes it.
    var mustacheValue: [String: Any] { mapValues(\.mustacheValue) }
}
