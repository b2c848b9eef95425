import Foundation

/// The operator's side of the store: schema migrations, the retention purge
/// (R8) and re-encryption under a new key.
public protocol StoreMaintenance: LifecycleStore {
    /// Applies the schema migrations not yet applied (every process does at
    /// start; safe when several start at once); returns the ones applied now.
    func migrate() async throws -> [String]

    /// Up to `limit` orders that still hold sealed secrets, by order id, after
    /// `afterOrderId`: the orders R8 may have to purge (each is decided by
    /// ``SecretRetention``).
    func ordersHoldingSecrets(after afterOrderId: String?, limit: Int) async throws -> [String]

    /// Up to `limit` orders received before `receivedBefore` whose personal
    /// data is not erased yet, by order id, after `afterOrderId`: the ones
    /// retention may erase (each decided by ``PersonalDataRetention``).
    func ordersHoldingPersonalData(receivedBefore: Date, after afterOrderId: String?, limit: Int) async throws -> [String]

    /// The queue's sealed fingerprint key. When there is none yet, `make`'s is
    /// stored; of processes starting together every one gets the same key.
    func fingerprintKey(orMake make: @escaping @Sendable () -> SealedSecret) async throws -> SealedSecret

    /// The ids of the encryption keys that sealed what the store holds
    /// (secrets and the fingerprint key): each must be configured.
    func sealingKeyIds() async throws -> Set<String>

    /// Re-encrypts every stored secret not sealed under `newestKeyId`, the
    /// fingerprint key included, a few at a time. `reseal` returns nil for a
    /// secret it cannot open (counted as failed).
    func rekey(newestKeyId: String, reseal: @escaping @Sendable (_ orderId: String, SealedSecret) -> SealedSecret?)
        async throws -> (rekeyed: Int, failed: Int)

    /// Lets go of the store's connections once nothing uses it any more (the
    /// last step of `serve`'s shutdown, and of every other command).
    func close() async
}

extension StoreMaintenance {
    /// SPEC §8: erases the personal data of every order whose retention ran
    /// out at `now`, a batch of orders per transaction. Returns how many orders.
    public func erasePersonalData(_ retention: PersonalDataRetention, at now: Date, batch: Int = 200) async throws -> Int {
        var erased = 0
        var after: String?
        while true {
            let orderIds = try await ordersHoldingPersonalData(receivedBefore: retention.cutoff(at: now), after: after,
                                                               limit: batch)
            guard let last = orderIds.last else { return erased }
            erased += try await decide(orderIds: orderIds) { facts in
                retention.erase(orderIds.compactMap { facts[$0] }, at: now)
            }.outcome
            if orderIds.count < batch { return erased }
            after = last
        }
    }

    /// R8: destroys the secrets of every order whose retention ran out at
    /// `now`, a batch of orders per transaction. Returns how many orders.
    public func purgeSecrets(_ retention: SecretRetention, at now: Date, batch: Int = 200) async throws -> Int {
        var purged = 0
        var after: String?
        while true {
            let orderIds = try await ordersHoldingSecrets(after: after, limit: batch)
            guard let last = orderIds.last else { return purged }
            purged += try await decide(orderIds: orderIds) { facts in
                retention.purge(orderIds.compactMap { facts[$0] }, at: now)
            }.outcome
            if orderIds.count < batch { return purged }
            after = last
        }
    }
}
