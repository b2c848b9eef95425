import FlexpostCore
import FlexpostServer
import Foundation

/// Reads the mail templates from `FLEXPOST_TEMPLATES` at start.
enum TemplateDirectory {
    static func load(_ directory: String) throws(ConfigurationError) -> MailTemplates {
        var sources: [String: String] = [:]
        for name in MailTemplates.requiredFileNames {
            let path = (directory as NSString).appendingPathComponent(name)
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError("template missing or unreadable: \(path) (FLEXPOST_TEMPLATES=\(directory))")
            }
            sources[name] = text
        }
        do {
            return try MailTemplates(sources: sources)
        } catch {
            throw ConfigurationError("\(error) in \(directory)")
        }
    }

    /// The support console's pages from `<templates>/console/`.
    static func loadConsole(_ directory: String) throws(ConfigurationError) -> SupportConsole.Pages {
        var sources: [String: String] = [:]
        for name in SupportConsole.Pages.names {
            let path = (directory as NSString).appendingPathComponent("console/\(name).mustache")
            guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
                throw ConfigurationError("template missing or unreadable: \(path) (FLEXPOST_TEMPLATES=\(directory))")
            }
            sources[name] = text
        }
        do {
            return try SupportConsole.Pages(sources: sources)
        } catch {
            throw ConfigurationError("\(error) in \(directory)")
        }
    }
}
