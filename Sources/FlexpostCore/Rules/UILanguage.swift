import Foundation

/// The languages of the support console (SPEC §7): German and English,
/// chosen by the browser's `Accept-Language`.
public enum UILanguage: String, Sendable, CaseIterable {
    case english = "en"
    case german = "de"

    /// The language the browser prefers most among those the console has
    /// (RFC 9110 §12.5.4: weights `q`, `q=0` refuses, `*` any); English when
    /// the header is absent, malformed or names neither.
    public static func preferred(acceptLanguage header: String?) -> UILanguage {
        guard let header else { return .english }
        var best: (language: UILanguage, weight: Double)?
        for range in header.split(separator: ",") {
            let parts = range.split(separator: ";").map { $0.trimmingCharacters(in: .whitespaces) }
            guard let tag = parts.first?.lowercased(), !tag.isEmpty else { continue }
            var weight = 1.0
            for parameter in parts.dropFirst() where parameter.lowercased().hasPrefix("q=") {
                weight = Double(parameter.dropFirst(2)).map { min(max($0, 0), 1) } ?? 0
            }
            let primary = tag.split(separator: "-").first.map(String.init) ?? tag
            let language: UILanguage? = primary == "*" ? .english : UILanguage(rawValue: primary)
            guard let language, weight > 0 else { continue }
            if weight > (best?.weight ?? 0) { best = (language, weight) }
        }
        return best?.language ?? .english
    }
}
