import FlexpostCore
import Hummingbird

/// The support console's words in English and German (SPEC §7), chosen per
/// request from the browser's `Accept-Language` (``ConsoleLanguageMiddleware``).
/// The templates hold the markup and take every word from here (`{{t.name}}`);
/// sentences that carry values are made by the functions below. The rules'
/// own reasons (why, refusals, hold scopes) are worded by the core in both
/// languages, beside their English.
struct ConsoleText: Sendable {
    let language: UILanguage

    /// The language of the request being answered.
    @TaskLocal static var current = ConsoleText(language: .english)

    var german: Bool { language == .german }

    /// One text in each language. A `switch` per phrase: a phrase without its
    /// German (or English) does not compile.
    enum Phrase: String, CaseIterable {
        case brand, skipToContent, find, overview, signOut, navigation
        case signIn, name, password, supportToken
        case findOrder, searchLabel, search, undeliveredMail, order, email, recipient, due, attempts, lastReply
        case bouncedMail, bounced, status, diagnostic, holds, releaseReason, yourName, holdMail, holdExplained
        case everyKind, accessData, adminNotices, onlyOrder, reasonRecorded, hold
        case unknownOrder, unknownOrderBefore, unknownOrderAfter, lookUpAnother
        case customer, portal, active, pending, cancelled, secretsPurged, deliveries, number, kind, state, sent
        case erased, why, history, at, actor, action, detail, resend, accessDataContact, adminNotice, resendButton
        case cancelOne, delivery, to, cancelButton
        case backToFirstPage, mailFlowing, byState, lastDay, deadAndBouncedLink, figuresPerHour, hour, sentState, deadState, bouncedState
        case searchAgain, received

        var words: (english: String, german: String) {
            switch self {
            case .brand: ("flexpost support", "flexpost Support")
            case .skipToContent: ("Skip to the content", "Zum Inhalt springen")
            case .find: ("Find", "Suchen")
            case .overview: ("Overview", "Übersicht")
            case .signOut: ("Sign out", "Abmelden")
            case .navigation: ("Console", "Konsole")
            case .signIn: ("Sign in", "Anmelden")
            case .name: ("Name", "Name")
            case .password: ("Password", "Passwort")
            case .supportToken: ("Support token", "Support-Token")
            case .findOrder: ("Find an order", "Auftrag suchen")
            case .searchLabel: ("Order id, customer number, e-mail address, phone number or site product id",
                                "Auftragsnummer, Kundennummer, E-Mail-Adresse, Telefonnummer oder Standortprodukt-ID")
            case .search: ("Search", "Suchen")
            case .undeliveredMail: ("Undelivered mail", "Nicht zugestellte E-Mails")
            case .order: ("Order", "Auftrag")
            case .email: ("E-mail", "E-Mail")
            case .recipient: ("Recipient", "Empfänger")
            case .due: ("Due", "Fällig")
            case .attempts: ("Attempts", "Versuche")
            case .lastReply: ("Last reply", "Letzte Antwort")
            case .bouncedMail: ("Bounced mail", "Zurückgewiesene E-Mails")
            case .bounced: ("Bounced", "Zurückgewiesen")
            case .status: ("Status", "Status")
            case .diagnostic: ("Diagnostic", "Diagnose")
            case .holds: ("Holds", "Angehaltene E-Mails")
            case .releaseReason: ("Reason for the release (recorded)", "Grund der Freigabe (wird festgehalten)")
            case .yourName: ("Your name (recorded)", "Ihr Name (wird festgehalten)")
            case .holdMail: ("Hold mail", "E-Mails anhalten")
            case .holdExplained: ("For a relay incident or a wrong template: held mail is not sent until it is released; new orders are still taken.",
                                  "Bei einer Störung des Relais oder einer falschen Vorlage: angehaltene E-Mails werden erst nach der Freigabe gesendet; neue Aufträge werden weiter angenommen.")
            case .everyKind: ("every kind", "alle Arten")
            case .accessData: ("access data", "Zugangsdaten")
            case .adminNotices: ("administrator notices", "Administrator-Hinweise")
            case .onlyOrder: ("Only order (optional)", "Nur der Auftrag (optional)")
            case .reasonRecorded: ("Reason (recorded)", "Grund (wird festgehalten)")
            case .hold: ("Hold", "Anhalten")
            case .unknownOrder: ("Unknown order", "Unbekannter Auftrag")
            case .unknownOrderBefore: ("No order", "Der Auftrag")
            case .unknownOrderAfter: ("is known.", "ist nicht bekannt.")
            case .lookUpAnother: ("Look up another order", "Einen anderen Auftrag suchen")
            case .customer: ("Customer", "Kunde")
            case .portal: ("portal", "Portal")
            case .active: ("active", "aktiv")
            case .pending: ("pending", "noch nicht aktiv")
            case .cancelled: ("cancelled", "storniert")
            case .secretsPurged: ("secrets purged", "Geheimnisse gelöscht")
            case .deliveries: ("Deliveries", "Zustellungen")
            case .number: ("#", "Nr.")
            case .kind: ("Kind", "Art")
            case .state: ("State", "Zustand")
            case .sent: ("Sent", "Gesendet")
            case .erased: ("(erased)", "(gelöscht)")
            case .why: ("Why", "Warum")
            case .history: ("History", "Verlauf")
            case .at: ("At", "Zeit")
            case .actor: ("Actor", "Wer")
            case .action: ("Action", "Aktion")
            case .detail: ("Detail", "Einzelheiten")
            case .resend: ("Resend", "Erneut senden")
            case .accessDataContact: ("access data (customer contact)", "Zugangsdaten (Kundenkontakt)")
            case .adminNotice: ("administrator notice", "Administrator-Hinweis")
            case .resendButton: ("Resend to the same recipients", "An dieselben Empfänger erneut senden")
            case .cancelOne: ("Cancel one delivery", "Eine Zustellung stornieren")
            case .delivery: ("Delivery", "Zustellung")
            case .to: ("to", "an")
            case .cancelButton: ("Cancel this delivery", "Diese Zustellung stornieren")
            case .backToFirstPage: ("Back to the first page", "Zurück zur ersten Seite")
            case .mailFlowing: ("Is mail flowing?", "Geht die Post hinaus?")
            case .byState: ("Deliveries by state", "Zustellungen nach Zustand")
            case .lastDay: ("The last 24 hours", "Die letzten 24 Stunden")
            case .deadAndBouncedLink: ("Dead and bounced mail are listed on the first page.",
                                       "Unzustellbare und zurückgewiesene E-Mails stehen auf der ersten Seite.")
            case .figuresPerHour: ("The figures per hour", "Die Zahlen je Stunde")
            case .hour: ("Hour", "Stunde")
            case .sentState: ("sent", "gesendet")
            case .deadState: ("dead", "unzustellbar")
            case .bouncedState: ("bounced", "zurückgewiesen")
            case .searchAgain: ("Search again", "Erneut suchen")
            case .received: ("Received", "Eingegangen")
            }
        }
    }

    func callAsFunction(_ phrase: Phrase) -> String { german ? phrase.words.german : phrase.words.english }

    /// Every phrase by name, for the templates' `{{t.name}}`.
    var phrases: [String: String] { Self.phraseTables[language] ?? [:] }

    /// Every phrase by name in each language, made once (every page takes them).
    static let phraseTables: [UILanguage: [String: String]] = Dictionary(uniqueKeysWithValues: UILanguage.allCases.map { language in
        let text = ConsoleText(language: language)
        return (language, Dictionary(uniqueKeysWithValues: Phrase.allCases.map { ($0.rawValue, text($0)) }))
    })

    func say(_ english: String, _ german: String) -> String { self.german ? german : english }

    // MARK: sentences with values

    func title(_ page: String) -> String { "\(page) – \(self(.brand))" }
    func deadSummary(count: String, days: Int, more: Int?) -> String {
        let listed = more.map { say(" (the newest \($0) are listed; `flexpost list --state dead` shows all)",
                                    " (die neuesten \($0) sind aufgeführt; `flexpost list --state dead` zeigt alle)") } ?? ""
        return say("\(count) e-mail(s) could not be delivered in the last \(days) days\(listed). "
                   + "Look the order up to see why, and resend it with a reason once the cause is fixed.",
                   "\(count) E-Mail(s) konnten in den letzten \(days) Tagen nicht zugestellt werden\(listed). "
                   + "Suchen Sie den Auftrag, um den Grund zu sehen, und senden Sie mit einem Grund erneut, sobald die Ursache behoben ist.")
    }
    func moreThan(_ count: Int) -> String { say("More than \(count)", "Mehr als \(count)") }
    func noDead(days: Int) -> String {
        say("No e-mail went undelivered in the last \(days) days.", "In den letzten \(days) Tagen blieb keine E-Mail unzugestellt.")
    }
    func bouncedSummary(count: Int, days: Int) -> String {
        say("\(count) e-mail(s) were accepted by the relay and then refused by the recipient's server in the last \(days) days: "
            + "the customer did not get them. Look the order up; once the order system has corrected the address, resend.",
            "\(count) E-Mail(s) wurden in den letzten \(days) Tagen vom Relais angenommen und dann vom Server des Empfängers "
            + "abgewiesen: der Kunde hat sie nicht erhalten. Suchen Sie den Auftrag; sobald das Auftragssystem die Adresse "
            + "berichtigt hat, senden Sie erneut.")
    }
    func noBounced(days: Int) -> String {
        say("No e-mail bounced in the last \(days) days.", "In den letzten \(days) Tagen wurde keine E-Mail zurückgewiesen.")
    }
    func heldSummary(count: Int, anyHold: Bool) -> String {
        say("\(count) deliveries are held.", "\(count) Zustellungen sind angehalten.")
            + (anyHold ? "" : say(" No hold is in force: mail goes out as it falls due.",
                                  " Nichts ist angehalten: E-Mails gehen hinaus, sobald sie fällig sind."))
    }
    func holdLine(_ summary: String) -> String { say("Held: \(summary)", "Angehalten: \(summary)") }
    func releaseButton(_ scope: String) -> String { say("Release \(scope)", "\(scope) freigeben") }
    func orderHeading(_ orderId: String) -> String { "\(self(.order)) \(orderId)" }
    func personalDataErased(_ at: String) -> String {
        say("personal data erased on \(at)", "personenbezogene Daten gelöscht am \(at)")
    }
    func oldest(_ due: String?, hours: Int, minutes: Int) -> String {
        guard let due else {
            return say("Nothing is waiting to go out: everything due has left.",
                       "Nichts wartet auf den Versand: alles Fällige ist hinausgegangen.")
        }
        return say("The oldest mail waiting to go out was due \(due), waiting \(hours) h \(minutes) min.",
                   "Die älteste wartende E-Mail war fällig \(due), sie wartet seit \(hours) h \(minutes) min.")
    }
    func daySummary(sent: Int, dead: Int, bounced: Int) -> String {
        say("\(sent) sent, \(dead) dead, \(bounced) bounced.", "\(sent) gesendet, \(dead) unzustellbar, \(bounced) zurückgewiesen.")
    }
    func searchHeading(_ query: String) -> String { say("Orders for “\(query)”", "Aufträge zu „\(query)“") }
    func searchSummary(count: Int, more: Bool) -> String {
        say("\(count) order(s), newest first", "\(count) Auftrag/Aufträge, neueste zuerst")
            + (more ? say("; only the newest are listed, search more precisely", "; nur die neuesten sind aufgeführt, suchen Sie genauer") : "")
            + "."
    }

    // MARK: answers to actions

    func resendScheduled(_ count: Int) -> String {
        say("Resend scheduled: \(count) e-mail(s) to the same recipients.",
            "Erneuter Versand geplant: \(count) E-Mail(s) an dieselben Empfänger.")
    }
    func notResent(_ why: String) -> String { say("Not resent: \(why).", "Nicht erneut gesendet: \(why).") }
    func notCancelled(_ why: String) -> String { say("Not cancelled: \(why).", "Nicht storniert: \(why).") }
    var chooseDelivery: String { say("choose one of this order's deliveries", "wählen Sie eine Zustellung dieses Auftrags") }
    func cancelledDelivery(_ id: Int64) -> String { say("Delivery \(id) cancelled.", "Zustellung \(id) storniert.") }
    func notHeldOrReleased(release: Bool, _ why: String) -> String {
        release ? say("Not released: \(why).", "Nicht freigegeben: \(why).") : say("Not held: \(why).", "Nicht angehalten: \(why).")
    }
    func rejected(_ rejection: EventRejection) -> String {
        say("\(rejection.field) \(rejection.rule)", "\(rejection.field): \(rejection.rule)")
    }
    func held(_ scope: String, count: Int) -> String {
        say("Held: \(scope) (\(count) deliveries now, and what arrives or falls due until it is released).",
            "Angehalten: \(scope) (\(count) Zustellungen jetzt, und was bis zur Freigabe eingeht oder fällig wird).")
    }
    func alreadyHeld(_ summary: String) -> String { say("Already held: \(summary).", "Schon angehalten: \(summary).") }
    var unknownOrderLower: String { say("unknown order", "unbekannter Auftrag") }
    func released(_ scope: String, count: Int, stillHeldBy: [String]) -> String {
        let rest = stillHeldBy.isEmpty ? "" : say(" Still held by: ", " Weiter angehalten durch: ") + stillHeldBy.joined(separator: "; ") + "."
        return say("Released: \(scope); \(count) deliveries are due again.", "Freigegeben: \(scope); \(count) Zustellungen sind wieder fällig.")
            + rest
    }
    func nothingReleased(_ scope: String) -> String {
        say("Nothing released: no hold on \(scope).", "Nichts freigegeben: \(scope) ist nicht angehalten.")
    }

    // MARK: refusals and outages

    var signInFirst: String { say("Please sign in.", "Bitte melden Sie sich an.") }
    var signInWithToken: String { say("Please sign in with the support token.", "Bitte melden Sie sich mit dem Support-Token an.") }
    var wrongToken: String { say("That support token is not valid.", "Dieses Support-Token ist nicht gültig.") }
    var wrongPassword: String { say("That name and password do not match.", "Name und Passwort passen nicht zusammen.") }
    func tooManySignIns(_ seconds: Int) -> String {
        say("Too many failed sign-ins: try again in \(seconds) s.", "Zu viele fehlgeschlagene Anmeldungen: versuchen Sie es in \(seconds) s wieder.")
    }
    var crossSite: String {
        say("Refused: this form was not sent from the support console.", "Abgelehnt: dieses Formular kam nicht aus der Support-Konsole.")
    }
    var forgedForm: String {
        say("Refused: this form was not sent from your support console session.",
            "Abgelehnt: dieses Formular kam nicht aus Ihrer Sitzung der Support-Konsole.")
    }
    func notAllowed(role: SupportRole, _ action: SupportAction) -> String {
        let english: String, german: String
        switch action {
        case .resend: (english, german) = ("resend", "nicht erneut senden")
        case .cancel: (english, german) = ("cancel deliveries", "keine Zustellungen stornieren")
        case .hold: (english, german) = ("hold", "nichts anhalten")
        case .release: (english, german) = ("release", "nichts freigeben")
        case .read, .resendDead, .erase: (english, german) = ("do that", "das nicht tun")
        }
        return say("Refused: as \(role.rawValue) you may not \(english).", "Abgelehnt: als \(role.rawValue) dürfen Sie \(german).")
    }
    func outage(_ what: Outage) -> String {
        let (english, german): (String, String)
        switch what {
        case .home: (english, german) = ("the list of undelivered mail cannot be shown now.",
                                         "die Liste nicht zugestellter E-Mails kann gerade nicht gezeigt werden.")
        case .signIn: (english, german) = ("signing in needs it. Try again in a moment.",
                                           "die Anmeldung braucht ihn. Versuchen Sie es gleich wieder.")
        case .signOut: (english, german) = ("you are not signed out yet. Try again in a moment.",
                                            "Sie sind noch nicht abgemeldet. Versuchen Sie es gleich wieder.")
        case .lookUp: (english, german) = ("look the order up again in a moment.", "suchen Sie den Auftrag gleich noch einmal.")
        case .overview: (english, german) = ("the overview cannot be shown now.", "die Übersicht kann gerade nicht gezeigt werden.")
        case .session: (english, german) = ("your sign-in cannot be checked now. Try again in a moment.",
                                            "Ihre Anmeldung kann gerade nicht geprüft werden. Versuchen Sie es gleich wieder.")
        case .resend: (english, german) = ("look the order up again in a moment to see whether the resend was scheduled before trying again.",
                                           "sehen Sie gleich im Auftrag nach, ob der erneute Versand geplant wurde, bevor Sie es noch einmal versuchen.")
        case .cancel: (english, german) = ("look the order up again in a moment to see whether the delivery was cancelled before trying again.",
                                           "sehen Sie gleich im Auftrag nach, ob die Zustellung storniert wurde, bevor Sie es noch einmal versuchen.")
        case .holds: (english, german) = ("look at the holds again in a moment before trying again.",
                                          "sehen Sie gleich wieder nach den angehaltenen E-Mails, bevor Sie es noch einmal versuchen.")
        }
        let answered = [.resend, .cancel, .holds].contains(what)
        return say((answered ? "The queue store did not answer: " : "The queue store is unavailable: ") + english,
                   (answered ? "Der Warteschlangenspeicher hat nicht geantwortet: " : "Der Warteschlangenspeicher ist nicht erreichbar: ") + german)
    }

    /// What the store could not do.
    enum Outage { case home, signIn, signOut, lookUp, overview, session, resend, cancel, holds }
}

/// Chooses the console's language for each request from `Accept-Language`.
struct ConsoleLanguageMiddleware<Context: RequestContext>: RouterMiddleware {
    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let text = ConsoleText(language: UILanguage.preferred(acceptLanguage: request.headers[.acceptLanguage]))
        var response = try await ConsoleText.$current.withValue(text) { try await next(request, context) }
        response.headers[.contentLanguage] = text.language.rawValue
        response.headers[.vary] = "Accept-Language"
        return response
    }
}
