import FlexpostCore
import Foundation
import Logging
import ServiceLifecycle

/// R8 and personal-data retention (SPEC §8) under `serve`: the purge at
/// start and then once a day. A purge that fails (the store down at that
/// moment) is tried again after 5 minutes, doubling up to an hour, not a day
/// later: secrets must not outlive their retention by a day because of a
/// short outage.
public struct RetentionSweep: Service {
    let store: any QueueStore
    /// Its copies of sent mail (the outbox) go with the secrets.
    let transport: (any MailTransport)?
    let retentionDays: Int
    let personalDataDays: Int
    let clock: any WallClock
    let logger: Logger
    var interval: Duration = .seconds(86_400)
    var retryAfterFailure: (first: Duration, longest: Duration) = (.seconds(300), .seconds(3_600))

    public init(store: any QueueStore, transport: (any MailTransport)? = nil, retentionDays: Int,
                personalDataDays: Int = 365, clock: any WallClock, logger: Logger) {
        self.store = store
        self.transport = transport
        self.retentionDays = retentionDays
        self.personalDataDays = personalDataDays
        self.clock = clock
        self.logger = logger
    }

    /// What one purge did.
    public struct Purged: Sendable, Equatable {
        /// Orders whose secrets were destroyed (R8).
        public var orders = 0
        /// Copies of sent mail the transport deleted (the outbox).
        public var copies = 0
        /// Orders whose personal data was erased.
        public var erased = 0
        /// Console sessions that had ended (SPEC §7), deleted.
        public var sessions = 0
    }

    /// One purge at `at` (`flexpost purge`): R8, then personal-data retention.
    public static func purge(store: any QueueStore, transport: (any MailTransport)?, retentionDays: Int,
                             personalDataDays: Int, at: Date) async throws -> Purged {
        let retention = SecretRetention(days: retentionDays)
        var purged = Purged()
        purged.orders = try await store.purgeSecrets(retention, at: at)
        purged.copies = try await transport?.purge(writtenBefore: retention.cutoff(at: at)) ?? 0
        purged.erased = try await store.erasePersonalData(PersonalDataRetention(days: personalDataDays), at: at)
        let ended = SessionPolicy().ended(at: at)
        purged.sessions = try await store.deleteSessions(lastSeenBefore: ended.lastSeenBefore, createdBefore: ended.createdBefore)
        return purged
    }

    public func run() async throws {
        await Periodic(interval: interval, backoff: retryAfterFailure).run({
            let purged = try await Self.purge(store: store, transport: transport, retentionDays: retentionDays,
                                              personalDataDays: personalDataDays, at: clock.now())
            if purged != Purged() {
                logger.info("retention purge", metadata: [
                    "purge.orders": "\(purged.orders)", "purge.outbox_files": "\(purged.copies)",
                    "purge.personal_data_erased": "\(purged.erased)", "purge.sessions": "\(purged.sessions)",
                ])
            }
            logger.debug("retention purge done", metadata: ["purge.next_in": "\(Backoff.text(interval))"])
            return nil
        }, failed: { error, failures, wait in
            logger.error("retention purge failed", metadata: [
                "error": "\(error)", "purge.failures": "\(failures)", "retry.in": "\(Backoff.text(wait))",
            ])
        })
    }
}
