// swift-tools-version:6.2
// SPDX-License-Identifier: Apache-2.0
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

// The agent's modules import FoundationEssentials only, but TOMLKit imports Foundation, so the
// static link line names Foundation's archive before FoundationEssentials', and the first generic
// specialization both define (a `[String: Any]` insertion) drew all of Foundation and ICU into the
// binary from there. `make release` passes the toolchain's FoundationEssentials archive here; as a
// link input it comes before every autolinked archive, and the agent then holds no Foundation
// (120 MB -> 72 MB; ~3 MiB less resident; docs/performance.md, "Release binaries: FoundationEssentials only").
// Dynamically linked builds (tests, demo) leave it unset.
let agentLinkerSettings: [LinkerSetting] =
    Context.environment["HOSTTRAIL_STATIC_FOUNDATION_ESSENTIALS"].map {
        $0.isEmpty ? [] : [.unsafeFlags([$0])]
    } ?? []

let package = Package(
    name: "hosttrail",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "hosttrail-agent", targets: ["hosttrail-agent"]),
        .executable(name: "hosttrail-collector", targets: ["hosttrail-collector"]),
        .executable(name: "hosttrail", targets: ["hosttrail"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.37.6"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "4.5.2"),
        .package(url: "https://github.com/apple/swift-certificates.git", from: "1.21.1"),
        .package(url: "https://github.com/apple/swift-asn1.git", from: "1.7.4"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1", traits: []),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/LebJe/TOMLKit.git", from: "0.6.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
    ],
    targets: [
        // MARK: - C libraries: one system-library target each, header-only shims.
        .systemLibrary(name: "CSystemd", pkgConfig: "libsystemd", providers: [.apt(["libsystemd-dev"])]),
        .systemLibrary(name: "CCurl", pkgConfig: "libcurl", providers: [.apt(["libcurl4-openssl-dev"])]),

        // A compiled shim, not a library: CRC-32C with the processor's instruction (x86-64 SSE 4.2).
        .target(name: "CCRC32C"),

        // MARK: - Libraries
        // The record model, event IDs, configuration parsing, lookup wire types: no I/O.
        .target(
            name: "TrailCore",
            dependencies: [
                "CCRC32C",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CryptoExtras", package: "swift-crypto"),
                .product(name: "TOMLKit", package: "TOMLKit"),
            ],
            swiftSettings: swiftSettings
        ),
        // The only Swift target that imports CSystemd: sd_notify, journal writing and reading.
        .target(
            name: "TrailSystemd",
            dependencies: [
                "CSystemd", .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The only Swift target that imports CCurl: an owned easy handle, an HTTPS client, an S3 client.
        .target(
            name: "CurlTransport",
            dependencies: ["CCurl", "TrailCore"],
            swiftSettings: swiftSettings
        ),
        // Rules: EventBridge patterns, rule files (HostTrail's format and Sigma's, over a syntax-neutral
        // tree), counting windows, the engine that evaluates records; no I/O, no YAML: the agent
        // evaluates host rules (written as JSON) with it and links no Foundation.
        .target(
            name: "TrailRules",
            dependencies: ["TrailCore"],
            swiftSettings: swiftSettings
        ),
        // Rule files in YAML: Yams (which links Foundation) reads them into TrailRules' tree; the
        // collector and the CLI.
        .target(
            name: "TrailRulesYAML",
            dependencies: ["TrailCore", "TrailRules", .product(name: "Yams", package: "Yams")],
            swiftSettings: swiftSettings
        ),
        // Metrics: swift-metrics' API over swift-prometheus' registry, and the small HTTP listener
        // that serves `/metrics` and the health endpoints (both daemons); no Foundation.
        .target(
            name: "TrailMetrics",
            dependencies: [
                "TrailCore", "TrailSystemd",
                .product(name: "CoreMetrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TrailAgent",
            dependencies: [
                "TrailCore", "TrailRules", "TrailSystemd", "TrailMetrics", "CurlTransport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "TrailCollector",
            dependencies: [
                "TrailCore", "TrailRules", "TrailRulesYAML", "TrailSystemd", "TrailMetrics", "CurlTransport",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTLS", package: "hummingbird"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "SwiftASN1", package: "swift-asn1"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The CLI's logic: dev certificates, lookups against the collector, output formats.
        .target(
            name: "TrailCLI",
            dependencies: [
                "TrailCore", "TrailRules", "TrailRulesYAML", "CurlTransport",
                .product(name: "X509", package: "swift-certificates"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),

        // MARK: - Thin executables
        .executableTarget(
            name: "hosttrail-agent",
            dependencies: [
                "TrailAgent", "TrailCore", "TrailRules", "TrailSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings,
            linkerSettings: agentLinkerSettings
        ),
        .executableTarget(
            name: "hosttrail-collector",
            dependencies: [
                "TrailCollector", "TrailCore", "TrailSystemd",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(
            name: "hosttrail",
            dependencies: [
                "TrailCLI", "TrailCore", "TrailRules", "TrailRulesYAML",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
            ],
            swiftSettings: swiftSettings
        ),

        // The benchmark's load generator (make bench): a compiled client for the agent's socket.
        .executableTarget(name: "hosttrail-loadgen", swiftSettings: swiftSettings),
        .executableTarget(name: "hosttrail-insights-bench", dependencies: ["TrailCore", "TrailTestSupport"], swiftSettings: swiftSettings),
        .executableTarget(
            name: "hosttrail-rules-bench", dependencies: ["TrailCore", "TrailRules", "TrailRulesYAML"], swiftSettings: swiftSettings),

        // MARK: - Tests
        .target(
            name: "TrailTestSupport",
            dependencies: ["TrailCore"],
            path: "Tests/TrailTestSupport",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrailCoreTests",
            dependencies: ["TrailCore", "TrailTestSupport"],
            resources: [.copy("Fixtures")],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrailRulesTests",
            dependencies: ["TrailRules", "TrailRulesYAML", "TrailCore", "TrailTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrailSystemdTests",
            dependencies: ["TrailSystemd", "TrailTestSupport"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrailAgentTests",
            dependencies: [
                "TrailAgent", "TrailCore", "TrailTestSupport", "CurlTransport",
                .product(name: "CompressNIO", package: "compress-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "TrailCollectorTests",
            dependencies: [
                "TrailCollector", "TrailCore", "TrailRulesYAML", "TrailSystemd", "TrailTestSupport",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        // Starts the real binaries: collector and agent processes, curl, systemd-analyze.
        .testTarget(
            name: "EndToEndTests",
            dependencies: ["TrailCore", "TrailTestSupport", .product(name: "Crypto", package: "swift-crypto")],
            swiftSettings: swiftSettings
        ),
    ]
)
