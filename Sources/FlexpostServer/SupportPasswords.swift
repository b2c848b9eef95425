import FlexpostCore
import HummingbirdBcrypt
import NIOPosix

/// bcrypt for the support team's passwords (hummingbird-auth), off Swift's
/// cooperative pool: one verification costs about a quarter of a second of CPU.
public enum SupportPasswords {
    /// The cost of new hashes (2^12 rounds).
    public static let cost: UInt8 = 12

    public static func hash(_ password: String) -> Secret {
        Secret(Bcrypt.hash(password, cost: cost))
    }

    /// Whether `password` matches; for an unknown person (`hash` nil) a hash
    /// is still checked, so that the answer takes as long.
    public static func verify(_ password: String, hash: Secret?) async -> Bool {
        // The stand-in hash is made on first use, on the thread pool too: bcrypt never runs on the cooperative pool.
        let matches = (try? await NIOThreadPool.singleton.runIfActive {
            Bcrypt.verify(password, hash: hash?.exposedValue ?? unknownPersonHash)
        }) ?? false
        return matches && hash != nil
    }

    /// A hash of nothing anyone types, made once.
    static let unknownPersonHash = Bcrypt.hash("flexpost: no such person", cost: cost)
}
