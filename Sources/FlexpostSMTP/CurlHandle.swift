import CCurl
import FlexpostCore

/// One libcurl easy handle with typed setters, and the options every
/// connection flexpost makes shares. Not thread-safe: its owner confines it
/// to one serial queue (``SMTPConnection``, ``IMAPMailbox``).
final class CurlHandle {
    let raw: UnsafeMutableRawPointer

    init() {
        precondition(CurlRuntime.initialized, "curl_global_init failed")
        raw = curl_easy_init()!
    }

    deinit {
        curl_easy_cleanup(raw)
    }

    func set(_ option: CURLoption, _ value: Int) {
        _ = flexpost_curl_setopt_long(raw, option, value)
    }

    /// A string option; nil resets it to libcurl's default.
    func set(_ option: CURLoption, _ value: String?) {
        if let value {
            _ = value.withCString { flexpost_curl_setopt_string(raw, option, $0) }
        } else {
            _ = flexpost_curl_setopt_pointer(raw, option, nil)
        }
    }

    /// Only these protocols, no signals, no verbose output (it would print the
    /// login), bounded waits, TLS 1.2 at least, the peer's certificate and
    /// name verified unless `verifyPeer` is off, a private CA if given, and
    /// the login.
    func applyConnection(protocols: String, connectTimeout: Int, timeout: Int, verifyPeer: Bool, caFile: String?,
                         username: String?, password: Secret?) {
        set(CURLOPT_PROTOCOLS_STR, protocols)
        set(CURLOPT_NOSIGNAL, 1)
        set(CURLOPT_VERBOSE, 0)
        set(CURLOPT_CONNECTTIMEOUT, connectTimeout)
        set(CURLOPT_TIMEOUT, timeout)
        set(CURLOPT_SERVER_RESPONSE_TIMEOUT, timeout)
        set(CURLOPT_SSLVERSION, Int(CURL_SSLVERSION_TLSv1_2))
        set(CURLOPT_SSL_VERIFYPEER, verifyPeer ? 1 : 0)
        set(CURLOPT_SSL_VERIFYHOST, verifyPeer ? 2 : 0)
        if let caFile { set(CURLOPT_CAINFO, caFile) }
        if let username { set(CURLOPT_USERNAME, username) }
        password?.withExposedValue { set(CURLOPT_PASSWORD, $0) }
    }
}
