import CCurl
import FlexpostCore
import Foundation

/// One libcurl easy handle speaking SMTP: it keeps its connection across
/// messages. Not thread-safe and not `Sendable`: it is confined to the serial
/// queue of its ``SMTPTransport``, because `curl_easy_perform` blocks.
// @unchecked Sendable: the only instance lives inside one SMTPTransport and is used
// solely from that transport's serial queue, never from two threads at once.
final class SMTPConnection: @unchecked Sendable {
    private let curl = CurlHandle()
    private var handle: UnsafeMutableRawPointer { curl.raw }
    private let configuration: SMTPConfiguration

    init(configuration: SMTPConfiguration) {
        self.configuration = configuration
        applyConnectionOptions()
    }

    private func set(_ option: CURLoption, _ value: Int) { curl.set(option, value) }
    private func set(_ option: CURLoption, _ value: String) { curl.set(option, value) }

    /// Options that hold for every message on this handle.
    private func applyConnectionOptions() {
        let c = configuration
        set(CURLOPT_URL, c.url + "/" + c.heloName)
        curl.applyConnection(protocols: "smtp,smtps", connectTimeout: c.connectTimeout, timeout: c.transactionTimeout,
                             verifyPeer: c.verifyPeer, caFile: c.caFile, username: c.username, password: c.password)
        switch c.security {
        case .implicitTLS, .requireSTARTTLS: set(CURLOPT_USE_SSL, Int(CURLUSESSL_ALL.rawValue))
        case .opportunistic: set(CURLOPT_USE_SSL, Int(CURLUSESSL_TRY.rawValue))
        }
        set(CURLOPT_UPLOAD, 1)
    }

    /// Sends one message and classifies the result (SPEC §5).
    func send(_ message: [UInt8], envelope: Envelope) -> TransportOutcome {
        if let problem = WireFormat.violation(in: message) {
            return .permanentFailure(code: nil, reply: "refused before sending: \(problem)")
        }
        // The envelope's addresses are validated by construction; check again
        // right before libcurl, which does not reject CR/LF itself.
        for address in [envelope.sender] + envelope.recipients {
            guard (try? EmailAddress(validating: address.value)) != nil else {
                return .permanentFailure(code: nil, reply: "refused before sending: invalid envelope address")
            }
        }
        let transfer = Transfer(payload: message)
        var recipients: UnsafeMutablePointer<curl_slist>? = nil
        for address in envelope.recipients {
            recipients = curl_slist_append(recipients, "<\(address.value)>")
        }
        defer { curl_slist_free_all(recipients) }

        set(CURLOPT_MAIL_FROM, "<\(envelope.sender.value)>")
        _ = flexpost_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, recipients)
        _ = flexpost_curl_setopt_off_t(handle, CURLOPT_INFILESIZE_LARGE, curl_off_t(message.count))
        let context = Unmanaged.passUnretained(transfer).toOpaque()
        _ = flexpost_curl_setopt_callback(handle, CURLOPT_READFUNCTION, readCallback)
        _ = flexpost_curl_setopt_pointer(handle, CURLOPT_READDATA, context)
        _ = flexpost_curl_setopt_callback(handle, CURLOPT_HEADERFUNCTION, replyCallback)
        _ = flexpost_curl_setopt_pointer(handle, CURLOPT_HEADERDATA, context)

        let result = withExtendedLifetime(transfer) { curl_easy_perform(handle) }
        var code = 0
        _ = flexpost_curl_getinfo_long(handle, CURLINFO_RESPONSE_CODE, &code)
        _ = flexpost_curl_setopt_slist(handle, CURLOPT_MAIL_RCPT, nil)
        return Self.classify(result: result, code: code, reply: transfer.failureReply ?? transfer.lastReply)
    }

    static func classify(result: CURLcode, code curlCode: Int, reply: String?) -> TransportOutcome {
        let curlText = String(cString: curl_easy_strerror(result))
        let reply = reply ?? ""
        if result == CURLE_OK {
            return .accepted(code: curlCode == 0 ? 250 : curlCode, reply: reply)
        }
        // The last reply line is the server's final word; curl's code may be an
        // earlier intermediate one (334 during AUTH).
        let code = Int(reply.prefix(3)) ?? curlCode
        let described = reply.isEmpty ? curlText : reply
        if result == CURLE_LOGIN_DENIED {
            // A rejected login is the relay configuration's fault, not the message's.
            return .transientFailure(code: code >= 400 ? code : nil, reply: "authentication failed: \(described)")
        }
        switch code {
        case 500..<600:
            return .permanentFailure(code: code, reply: described)
        case 400..<500:
            return .transientFailure(code: code, reply: described)
        default:
            // No failure reply: the network, TLS or a timeout.
            if result == CURLE_USE_SSL_FAILED {
                return .transientFailure(code: nil, reply: "TLS required but the server offers no STARTTLS")
            }
            if result == CURLE_OPERATION_TIMEDOUT && curlCode == 354 {
                return .transientFailure(code: nil, reply: "timeout after DATA: the message may have been delivered")
            }
            return .transientFailure(code: nil, reply: curlText)
        }
    }
}

/// One message's bytes and the server replies seen while sending it; the
/// context of libcurl's callbacks, passed through their `void*`.
private final class Transfer {
    let payload: [UInt8]
    var offset = 0
    var lastReply: String?
    /// The first 4xx/5xx reply: after it curl may still say QUIT and get "221 Bye".
    var failureReply: String?

    init(payload: [UInt8]) { self.payload = payload }
}

private let readCallback: flexpost_curl_data_callback = { buffer, size, count, userdata in
    guard let buffer, let userdata else { return flexpost_curl_readfunc_abort }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let remaining = transfer.payload.count - transfer.offset
    let n = min(size * count, remaining)
    if n > 0 {
        transfer.payload.withUnsafeBytes { raw in
            UnsafeMutableRawPointer(buffer).copyMemory(from: raw.baseAddress! + transfer.offset, byteCount: n)
        }
        transfer.offset += n
    }
    return n
}

private let replyCallback: flexpost_curl_data_callback = { buffer, size, count, userdata in
    let n = size * count
    guard let buffer, let userdata else { return n }
    let transfer = Unmanaged<Transfer>.fromOpaque(userdata).takeUnretainedValue()
    let bytes = UnsafeRawBufferPointer(start: buffer, count: n)
    let line = String(decoding: bytes.prefix(512).filter { $0 >= 0x20 && $0 < 0x7F }, as: UTF8.self)
    if line.count >= 3, line.prefix(3).allSatisfy(\.isNumber) {
        transfer.lastReply = line
        if transfer.failureReply == nil, let first = line.first, first == "4" || first == "5" {
            transfer.failureReply = line
        }
    }
    return n
}
