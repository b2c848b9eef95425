import Dispatch
import FlexpostCore
import Synchronization

/// SMTP delivery through libcurl over a small pool of connections. Each
/// connection is confined to its own serial dispatch queue, so blocking
/// `curl_easy_perform` never runs on Swift's cooperative thread pool, and is
/// reused across messages. A connection is only opened when first needed, and
/// the most recently used idle one is taken first, so a light load keeps
/// using one warm connection.
public final class SMTPTransport: MailTransport {
    /// One connection and the serial queue it lives on.
    private struct Lane: Sendable {
        let queue: DispatchQueue
        let connection: SMTPConnection
    }

    private struct Idle {
        var lanes: [Int]
        var waiters: [CheckedContinuation<Int, Never>] = []
    }

    private let lanes: [Lane]
    private let idle: Mutex<Idle>

    /// How many messages this transport carries at once.
    public var concurrency: Int { lanes.count }

    public init(configuration: SMTPConfiguration, connections: Int = 1, label: String = "flexpost.smtp") {
        let count = max(1, connections)
        self.lanes = (0..<count).map { index in
            Lane(queue: DispatchQueue(label: "\(label).\(index)"), connection: SMTPConnection(configuration: configuration))
        }
        // Reversed, so that `popLast` hands out lane 0 first.
        self.idle = Mutex(Idle(lanes: Array((0..<count).reversed())))
    }

    public func send(_ message: [UInt8], envelope: Envelope) async -> TransportOutcome {
        let index = await acquire()
        defer { release(index) }
        let lane = lanes[index]
        return await withCheckedContinuation { continuation in
            lane.queue.async {
                continuation.resume(returning: lane.connection.send(message, envelope: envelope))
            }
        }
    }

    private func acquire() async -> Int {
        if let index = idle.withLock({ $0.lanes.popLast() }) { return index }
        return await withCheckedContinuation { continuation in
            let index: Int? = idle.withLock { state in
                if let index = state.lanes.popLast() { return index }
                state.waiters.append(continuation)
                return nil
            }
            if let index { continuation.resume(returning: index) }
        }
    }

    private func release(_ index: Int) {
        let waiter: CheckedContinuation<Int, Never>? = idle.withLock { state in
            if state.waiters.isEmpty {
                state.lanes.append(index)
                return nil
            }
            return state.waiters.removeFirst()
        }
        waiter?.resume(returning: index)
    }
}
