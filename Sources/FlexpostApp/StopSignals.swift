import Foundation
import Synchronization

/// SIGTERM and SIGINT for a command that stops gracefully (`drain`): the first
/// one asks it to stop (no more claims; attempts in flight finish and are
/// recorded; what was not started is given back), a second one ends the
/// process at once, as the signal's default would have.
final class StopSignals: @unchecked Sendable {
    // @unchecked Sendable: `sources` is written once in init and only kept
    // alive after that; the signal received is an atomic.
    private let received = Atomic<Int32>(0)
    private var sources: [any DispatchSourceSignal] = []

    init(_ signals: [Int32] = [SIGTERM, SIGINT]) {
        for number in signals {
            // Ignored by the process so that the dispatch source sees it instead.
            Foundation.signal(number, SIG_IGN)
            let source = DispatchSource.makeSignalSource(signal: number, queue: .global())
            source.setEventHandler { [weak self] in self?.receive(number) }
            source.resume()
            sources.append(source)
        }
    }

    private func receive(_ number: Int32) {
        let (first, _) = received.compareExchange(expected: 0, desired: number, ordering: .acquiringAndReleasing)
        guard first else {
            FileHandle.standardError.write(Data("flexpost: stopped at once by a second signal\n".utf8))
            exit(128 + number)
        }
        FileHandle.standardError.write(
            Data("flexpost: \(Self.name(number)) received: finishing the attempts in flight, then stopping\n".utf8))
    }

    /// The first signal received, or nil.
    var signal: Int32? {
        let number = received.load(ordering: .acquiring)
        return number == 0 ? nil : number
    }

    static func name(_ number: Int32) -> String {
        switch number {
        case SIGTERM: "SIGTERM"
        case SIGINT: "SIGINT"
        default: "signal \(number)"
        }
    }
}
