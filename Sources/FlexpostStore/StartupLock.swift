#if canImport(Glibc)
import Glibc
#endif
import Foundation

/// An exclusive lock on a file beside the database (`flock`), held while a
/// process opens the database and brings its schema up to date: processes
/// that start together (a first start, or `serve` and a cron `drain` after a
/// deploy with a migration) take turns instead of racing to create the same
/// tables, to switch the file to WAL, or to apply the same migration. The
/// kernel drops the lock if the process dies.
final class StartupLock {
    private let descriptor: Int32

    /// Waits until no other process holds the lock.
    init(path: String) throws {
        let descriptor = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard descriptor >= 0 else { throw LockError(path: path, errno: errno) }
        while flock(descriptor, LOCK_EX) != 0 {
            guard errno == EINTR else {
                let failure = errno
                close(descriptor)
                throw LockError(path: path, errno: failure)
            }
        }
        self.descriptor = descriptor
    }

    deinit {
        flock(descriptor, LOCK_UN)
        close(descriptor)
    }

    struct LockError: Error, CustomStringConvertible {
        let path: String
        let errno: Int32
        var description: String { "cannot lock \(path): \(String(cString: strerror(errno)))" }
    }
}
