import FlexpostCore
import GRDB
import Synchronization

/// Group commit for intake. Each event is recorded in a savepoint of its own,
/// and is answered only once the transaction holding it is committed (and,
/// with `synchronous = FULL`, synced), exactly as with one transaction per
/// event; but events that arrive while a transaction is being written share
/// the next one, so one fsync serves every webhook waiting at that moment.
///
/// An event whose recording fails is rolled back to its savepoint and gets its
/// error; the others in the transaction are unaffected. If the commit itself
/// fails, every event in it gets the error and none of them is stored.
final class IntakeCommitter: Sendable {
    typealias Work = @Sendable (Database) throws -> IntakeOutcome

    private struct Pending {
        let work: Work
        let answer: CheckedContinuation<IntakeOutcome, any Error>
    }

    private struct State {
        var pending: [Pending] = []
        var writing = false
        var transactions = 0
    }

    private let state = Mutex(State())
    private let pool: DatabasePool

    init(pool: DatabasePool) {
        self.pool = pool
    }

    /// How many intake transactions have been committed or attempted (for tests).
    var transactions: Int { state.withLock { $0.transactions } }
    /// Events waiting for the next transaction.
    var queued: Int { state.withLock { $0.pending.count } }

    /// Records one event; answered when its transaction is committed. How
    /// long a caller waits is the caller's to bound (``DeadlineStore``): an
    /// event given up so may still be committed, and its sender's retry is then
    /// a duplicate.
    func submit(_ work: @escaping Work) async throws -> IntakeOutcome {
        try await withCheckedThrowingContinuation { (answer: CheckedContinuation<IntakeOutcome, any Error>) in
            let startWriting = state.withLock { state in
                state.pending.append(Pending(work: work, answer: answer))
                guard !state.writing else { return false }
                state.writing = true
                return true
            }
            if startWriting {
                // GRDB's writer queue: off the cooperative pool, serialised with every other write.
                pool.asyncWriteWithoutTransaction { db in self.drain(db) }
            }
        }
    }

    /// Writes batches until nothing is waiting.
    private func drain(_ db: Database) {
        while true {
            let batch: [Pending] = state.withLock { state in
                let batch = state.pending
                state.pending = []
                if batch.isEmpty { state.writing = false } else { state.transactions += 1 }
                return batch
            }
            if batch.isEmpty { return }
            for (pending, result) in zip(batch, write(batch.map(\.work), db)) {
                pending.answer.resume(with: result)
            }
        }
    }

    private func write(_ works: [Work], _ db: Database) -> [Result<IntakeOutcome, any Error>] {
        var results: [Result<IntakeOutcome, any Error>] = []
        do {
            try db.inTransaction(.immediate) {
                for work in works {
                    // A failure that ended the whole transaction (SQLite rolls back on
                    // some I/O errors) must not let later events run outside it.
                    guard db.isInsideTransaction else {
                        results.append(.failure(DatabaseError(resultCode: .SQLITE_ABORT,
                                                              message: "intake transaction ended early")))
                        continue
                    }
                    if works.count == 1 {
                        // Alone in its transaction, an event needs no savepoint: if it
                        // fails, the whole transaction is rolled back, the same thing.
                        results.append(.success(try work(db)))
                        continue
                    }
                    do {
                        var outcome: IntakeOutcome?
                        try db.inSavepoint {
                            outcome = try work(db)
                            return .commit
                        }
                        results.append(.success(outcome!))
                    } catch {
                        results.append(.failure(error))
                    }
                }
                return .commit
            }
            return results
        } catch {
            // Nothing of this transaction is stored: every event in it gets the error.
            return works.map { _ in .failure(error) }
        }
    }
}
