import Crypto
import FlexpostCore
import Foundation

/// libFuzzer target (SPEC §6, issue 21): any bytes read as a received
/// message. `BounceReport.read` never fails and never traps; what it answers
/// holds together: a report that is not `failed`, `delayed` or `delivered`
/// names no recipient status it did not read, every status is an enhanced
/// code, the digest is the input's, and a VERP address only ever names a
/// delivery its MAC was made for.
enum FuzzBounceReport {
    static let returnPath = ReturnPath(base: try! EmailAddress(validating: "bounces@companyflex.example"),
                                       key: FingerprintKey(Secret(Data(repeating: 9, count: 32).base64EncodedString()))!)

    static func check(_ bytes: [UInt8]) {
        let report = BounceReport.read(bytes)
        let digest = SHA256.hash(data: bytes).lowercaseHex
        guard report.digest == digest else { fatalError("digest is not the input's") }
        for recipient in report.recipients {
            if let status = recipient.status, status.wholeMatch(of: /[245]\.\d{1,3}\.\d{1,3}/) == nil {
                fatalError("status is not an enhanced status code: \(status)")
            }
        }
        if [.autoreply, .feedback].contains(report.bounceClass), report.recipients.contains(where: { $0.bounceClass == .failed }) {
            fatalError("an auto-reply or feedback report taken for a failure")
        }
        // No made-up token names a delivery: only addresses made by the ReturnPath do.
        for address in report.returnAddresses {
            if let id = returnPath.deliveryId(in: address), returnPath.address(for: id).value.lowercased() != address.lowercased() {
                fatalError("a VERP address matched that the key did not make: \(address)")
            }
        }
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzBounceReport(_ data: UnsafeRawPointer, _ size: Int) -> CInt {
    FuzzBounceReport.check(Array(UnsafeRawBufferPointer(start: data, count: size)))
    return 0
}

/// libFuzzer's driver; SwiftPM names an executable's entry `FuzzBounceReport_main`.
@_silgen_name("LLVMFuzzerRunDriver")
func LLVMFuzzerRunDriver(
    _ argc: UnsafeMutablePointer<CInt>, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>?>,
    _ callback: @convention(c) (UnsafeRawPointer, Int) -> CInt) -> CInt

@_cdecl("FuzzBounceReport_main")
public func fuzzMain(_ argc: CInt, _ argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>) -> CInt {
    var argc = argc
    var argv: UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>? = argv
    return LLVMFuzzerRunDriver(&argc, &argv) { data, size in fuzzBounceReport(data, size) }
}
