import CCurl
import FlexpostCore
import Foundation

/// How flexpost reaches the bounce mailbox (SPEC §6 `FLEXPOST_BOUNCE_*`).
public struct IMAPConfiguration: Sendable {
    /// `imaps://host[:port]/MAILBOX`, or `imap://` to a loopback server (STARTTLS if offered).
    public var url: String
    public var username: String
    public var password: Secret
    /// PEM file of a private CA; nil: the system trust store.
    public var caFile: String?
    /// Bound on connecting, and on each command.
    public var timeout: Int
    /// How much of a message is fetched, from its start: what a bounce report
    /// says (its headers, the delivery status, the returned message's headers)
    /// comes first; a larger message is read from its first part rather than
    /// failing every poll and holding up the messages after it.
    public var fetchLimit: Int

    public init(url: String, username: String, password: Secret, caFile: String? = nil, timeout: Int = 30,
                fetchLimit: Int = 1 << 20) {
        self.url = url
        self.username = username
        self.password = password
        self.caFile = caFile
        self.timeout = timeout
        self.fetchLimit = min(fetchLimit, ResponseSink.limit)
    }
}

/// Why the mailbox could not be read; never holds the password.
public struct IMAPError: Error, CustomStringConvertible, Sendable {
    public let description: String
}

/// The bounce mailbox over IMAP through libcurl (SPEC §6): one easy handle,
/// its connection kept between polls, confined to a serial queue because
/// `curl_easy_perform` blocks. UIDs, not sequence numbers, so that a
/// message deleted meanwhile cannot shift which one is fetched or deleted.
public final class IMAPMailbox: BounceMailbox, @unchecked Sendable {
    // @unchecked Sendable: the handle is touched only on `queue`.
    private let curl = CurlHandle()
    private let configuration: IMAPConfiguration
    private let queue = DispatchQueue(label: "flexpost.imap")

    public init(configuration: IMAPConfiguration) {
        self.configuration = configuration
        let c = configuration
        curl.applyConnection(protocols: "imap,imaps", connectTimeout: c.timeout, timeout: c.timeout, verifyPeer: true,
                             caFile: c.caFile, username: c.username, password: c.password)
        // imaps:// is TLS from the first byte; imap:// (loopback only) takes STARTTLS when offered.
        curl.set(CURLOPT_USE_SSL, Int((c.url.lowercased().hasPrefix("imaps://") ? CURLUSESSL_ALL : CURLUSESSL_TRY).rawValue))
    }

    public func messageUIDs() async throws -> [UInt64] {
        let answer = try await perform(url: configuration.url, command: "UID SEARCH ALL")
        // "* SEARCH 3 4 9": the untagged answer libcurl hands on.
        return Self.searchResult(String(decoding: answer, as: UTF8.self))
    }

    public func fetch(uid: UInt64) async throws -> [UInt8] {
        // RFC 5092's partial: `UID FETCH uid BODY[]<0.limit>`.
        try await perform(url: configuration.url + ";UID=\(uid);PARTIAL=0.\(configuration.fetchLimit)", command: nil)
    }

    public func delete(uid: UInt64) async throws {
        _ = try await perform(url: configuration.url, command: "UID STORE \(uid) +FLAGS.SILENT (\\Deleted)")
        _ = try await perform(url: configuration.url, command: "EXPUNGE")
    }

    /// The UIDs of `* SEARCH` lines, sorted.
    static func searchResult(_ text: String) -> [UInt64] {
        text.split(whereSeparator: \.isNewline).flatMap { line -> [UInt64] in
            let words = line.split(separator: " ")
            guard words.count >= 2, words[0] == "*", words[1].uppercased() == "SEARCH" else { return [] }
            return words.dropFirst(2).compactMap { UInt64($0.trimmingCharacters(in: .whitespaces)) }
        }.sorted()
    }

    /// One IMAP command (or, without one, the fetch the URL names), on the
    /// mailbox's queue; answers what libcurl writes.
    private func perform(url: String, command: String?) async throws -> [UInt8] {
        try await withCheckedThrowingContinuation { continuation in
            queue.async {
                let sink = ResponseSink()
                let handle = self.curl.raw
                self.curl.set(CURLOPT_URL, url)
                self.curl.set(CURLOPT_CUSTOMREQUEST, command)
                let context = Unmanaged.passUnretained(sink).toOpaque()
                _ = flexpost_curl_setopt_callback(handle, CURLOPT_WRITEFUNCTION, writeCallback)
                _ = flexpost_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, context)
                let result = withExtendedLifetime(sink) { curl_easy_perform(handle) }
                _ = flexpost_curl_setopt_pointer(handle, CURLOPT_WRITEDATA, nil)
                if result == CURLE_OK {
                    continuation.resume(returning: sink.bytes)
                } else {
                    let what = command.map { $0.split(separator: " ").prefix(2).joined(separator: " ") } ?? "FETCH"
                    continuation.resume(throwing: IMAPError(
                        description: "IMAP \(what) failed: \(String(cString: curl_easy_strerror(result)))"))
                }
            }
        }
    }
}

/// What libcurl writes for one command; bounded, so a huge message cannot exhaust memory.
final class ResponseSink {
    var bytes: [UInt8] = []
    static let limit = 10 * 1024 * 1024
}

private let writeCallback: flexpost_curl_data_callback = { buffer, size, count, userdata in
    let n = size * count
    guard let buffer, let userdata else { return n }
    let sink = Unmanaged<ResponseSink>.fromOpaque(userdata).takeUnretainedValue()
    guard sink.bytes.count + n <= ResponseSink.limit else { return 0 }  // 0 aborts the transfer
    sink.bytes.append(contentsOf: UnsafeRawBufferPointer(start: buffer, count: n))
    return n
}
