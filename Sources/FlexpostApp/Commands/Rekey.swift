import ArgumentParser
import FlexpostCore

/// `flexpost rekey`: re-encrypts stored secrets under the newest key of
/// `FLEXPOST_ENCRYPTION_KEY`, so that an old key can then be retired.
struct Rekey: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Re-encrypt stored secrets under the newest FLEXPOST_ENCRYPTION_KEY key.")

    func run() async throws {
        let runtime = try await startRuntime(mail: false)
        let sealer = runtime.sealer
        let newest = sealer.keyRing.primary.id
        let (rekeyed, failed) = try await runtime.store.rekey(newestKeyId: newest) { orderId, sealed in
            try? sealer.reseal(sealed, orderId: orderId)
        }
        print("rekey: \(rekeyed) secrets re-encrypted under key \(newest), \(failed) could not be opened")
        if failed > 0 {
            FlexpostMain.printError("flexpost: \(failed) secrets could not be decrypted with any configured key; keep the old key until they are purged")
            throw CommandExit(code: 1)
        }
    }
}
