// swift-tools-version: 6.1
import Foundation
import PackageDescription

let package = Package(
    name: "flexpost",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "flexpost", targets: ["flexpost"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-crypto", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache", from: "2.1.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl", from: "2.37.6"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-auth", from: "2.5.0"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
    ],
    targets: [
        // libcurl, imported by FlexpostSMTP only. The shim turns the C-variadic
        // curl_easy_setopt / curl_easy_getinfo into typed functions.
        .systemLibrary(
            name: "CCurl",
            pkgConfig: "libcurl",
            providers: [.apt(["libcurl4-openssl-dev"])]
        ),
        // The pure core: events, validation, rules, scheduling, MIME, secrets. No I/O.
        .target(
            name: "FlexpostCore",
            dependencies: [
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Mustache", package: "swift-mustache"),
            ]
        ),
        // Mail transports: SMTP through libcurl, and the development outbox.
        .target(
            name: "FlexpostSMTP",
            dependencies: [
                "CCurl", "FlexpostCore",
            ]
        ),
        // The durable queue store on SQLite (GRDB).
        .target(
            name: "FlexpostStore",
            dependencies: [
                "FlexpostCore",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // The same queue on a shared PostgreSQL database (postgres-nio), for many workers on many machines.
        .target(
            name: "FlexpostPostgres",
            dependencies: [
                "FlexpostCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Delivery events to the order system (SPEC §6): signed POSTs through async-http-client.
        .target(
            name: "FlexpostWebhooks",
            dependencies: [
                "FlexpostCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // HTTP intake and support routes (Hummingbird).
        .target(
            name: "FlexpostServer",
            dependencies: [
                "FlexpostCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Mustache", package: "swift-mustache"),
                // bcrypt for the support team's passwords (SPEC §7).
                .product(name: "HummingbirdBcrypt", package: "hummingbird-auth"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ]
        ),
        // The delivery engine: intake, the delivery pass and loop, attempt
        // recording, the retention sweep. Talks to the store and the mail
        // transport through the core's protocols only.
        .target(
            name: "FlexpostEngine",
            dependencies: [
                "FlexpostCore",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // Composition root: configuration, logging, the commands that wire the parts.
        .target(
            name: "FlexpostApp",
            dependencies: [
                "FlexpostCore", "FlexpostEngine", "FlexpostSMTP", "FlexpostStore", "FlexpostPostgres", "FlexpostServer",
                "FlexpostWebhooks",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
            ]
        ),
        .executableTarget(name: "flexpost", dependencies: ["FlexpostApp"]),
        .testTarget(
            name: "FlexpostCoreTests",
            dependencies: [
                "FlexpostCore", .product(name: "Mustache", package: "swift-mustache"),
                .product(name: "Crypto", package: "swift-crypto"),
            ]
        ),
        .testTarget(name: "FlexpostAppTests", dependencies: ["FlexpostApp", .product(name: "Logging", package: "swift-log")]),
        // Libcurl against the SMTP test server (Tests/Support/smtp_test_server.py): no database.
        .testTarget(name: "FlexpostSMTPTests", dependencies: ["FlexpostSMTP", "FlexpostCore", "FlexpostTestSupport"]),
        // What the tests share (no tests of its own): the test environment, fresh
        // stores of each kind, the SMTP and PostgreSQL test servers, an HTTP client,
        // a serve process. A test target, so it may see the modules' internals.
        .testTarget(
            name: "FlexpostTestSupport",
            dependencies: [
                "FlexpostCore", "FlexpostEngine", "FlexpostStore", "FlexpostPostgres", "FlexpostApp",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // The engine's mechanics on SQLite on disk: pipelined passes, group commit
        // of results, the delivery loop's wake-ups, the store deadline layer.
        .testTarget(
            name: "FlexpostEngineTests",
            dependencies: [
                "FlexpostEngine", "FlexpostCore", "FlexpostStore", "FlexpostApp", "FlexpostTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "MetricsTestKit", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),
        // The queue on SQLite: the store conformance suite on SQLite, and what
        // only SQLite's store has to show (its file, its -wal).
        .testTarget(
            name: "FlexpostStoreTests",
            dependencies: ["FlexpostStore", "FlexpostCore", "FlexpostTestSupport", .product(name: "GRDB", package: "GRDB.swift")]
        ),
        // The queue on PostgreSQL: the store conformance suite on a real server,
        // several serve processes on one database, the URL's forms.
        .testTarget(
            name: "FlexpostPostgresTests",
            dependencies: ["FlexpostPostgres", "FlexpostTestSupport", "flexpost"]
        ),
        .testTarget(
            name: "FlexpostIntegrationTests",
            dependencies: [
                "FlexpostCore", "FlexpostEngine", "FlexpostSMTP", "FlexpostStore", "FlexpostServer", "FlexpostApp",
                "FlexpostTestSupport",
                // The end-to-end tests run the binary: a bare `swift test` builds it too.
                "flexpost",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
    ],
    swiftLanguageModes: [.v6]
)

// libFuzzer targets, only with FLEXPOST_FUZZ=1 (`make fuzz`): they link
// libFuzzer's own main and are not part of the normal build.
if ProcessInfo.processInfo.environment["FLEXPOST_FUZZ"] == "1" {
    // The core is instrumented too, so that libFuzzer sees the coverage of the decoders and encoders.
    if let core = package.targets.first(where: { $0.name == "FlexpostCore" }) {
        core.swiftSettings = (core.swiftSettings ?? []) + [.unsafeFlags(["-sanitize=fuzzer,address"])]
    }
    for name in ["FuzzEventDecoder", "FuzzMailEncoding", "FuzzBounceReport"] {
        package.targets.append(.executableTarget(
            name: name, dependencies: ["FlexpostCore", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-parse-as-library"])],
            linkerSettings: [.unsafeFlags(["-sanitize=fuzzer,address", "-use-ld=lld"])]))
        package.products.append(.executable(name: name, targets: [name]))
    }
}
