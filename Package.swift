// swift-tools-version: 6.0
import Foundation
import PackageDescription

/// The CPU the Swift code is compiled for (docs/building.md). On an x86-64 Linux machine whose
/// CPU has AVX2, FMA and BMI2 (x86-64-v3: Intel since 2013, AMD since 2015) the build targets
/// that instruction set, so the Swift SIMD kernels use 256-bit vectors; elsewhere it targets the
/// baseline. `TRAINSET_TARGET_CPU` overrides the choice: `baseline`, or a CPU name that swiftc's
/// `-target-cpu` accepts. Results do not depend on it: Swift never fuses or reorders
/// floating-point operations, so every instruction set computes the same bits.
let targetCPU: String? = {
    if let chosen = ProcessInfo.processInfo.environment["TRAINSET_TARGET_CPU"], !chosen.isEmpty {
        return chosen == "baseline" ? nil : chosen
    }
    #if os(Linux) && arch(x86_64)
    guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8),
          let line = info.split(separator: "\n").first(where: { $0.hasPrefix("flags") }) else { return nil }
    let flags = Set(line.split(separator: " ").map(String.init))
    let x86_64_v3 = ["avx", "avx2", "bmi1", "bmi2", "f16c", "fma", "abm", "movbe", "xsave"]
    return x86_64_v3.allSatisfy(flags.contains) ? "haswell" : nil
    #else
    return nil
    #endif
}()

// Dependencies point one way: C shims ← safe wrappers ← domain modules ← Export ← CLI.
// See docs/architecture.md for what each module owns.
let package = Package(
    name: "trainset",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "trainset", targets: ["trainset"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.12.3"),
        .package(url: "https://github.com/jpsim/Yams", from: "6.2.2"),
    ],
    targets: [
        // C system libraries: module map + shim header only.
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev"])]),
        .systemLibrary(name: "CTIFF", pkgConfig: "libtiff-4", providers: [.apt(["libtiff-dev"])]),
        .systemLibrary(name: "CPNG", pkgConfig: "libpng", providers: [.apt(["libpng-dev"])]),
        .systemLibrary(name: "CJPEG", pkgConfig: "libjpeg", providers: [.apt(["libjpeg-dev"])]),
        // Deflate encoders for chunks filtered before HDF5 stores them (ISA-L igzip, zlib).
        .systemLibrary(name: "CISAL", pkgConfig: "libisal", providers: [.apt(["libisal-dev"])]),
        .systemLibrary(name: "CZLIB", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        // Pixel and label buffers shared by readers, tiling and the bundle writer.
        .target(name: "Raster"),
        // Crash isolation: the CLI runs each command in a supervised child process; readers
        // leave breadcrumbs so a crash inside a C library names the file it was reading.
        .target(name: "CProcess", cSettings: targetCPU == "haswell" ? [.define("TRAINSET_REQUIRES_X86_64_V3")] : []),
        .target(name: "CrashIsolation", dependencies: ["CProcess"]),
        .target(name: "ImageFormats", dependencies: ["Raster", "CrashIsolation", "CTIFF", "CPNG", "CJPEG"]),
        .target(name: "HDF5", dependencies: ["CrashIsolation", "CHDF5", "CISAL", "CZLIB"]),
        .target(name: "LabelSchema"),
        .target(name: "Tiling", dependencies: ["Raster", "CBLAS"]),
        .target(name: "AVDB", dependencies: ["Raster", "ImageFormats", "LabelSchema"]),
        .target(name: "BundleFormat", dependencies: [
            "Raster", "HDF5", "LabelSchema", "SampleLinking",
            .product(name: "Crypto", package: "swift-crypto"),
        ]),
        .target(name: "Export", dependencies: [
            "Raster", "ImageFormats", "AVDB", "LabelSchema", "Tiling", "BundleFormat", "SampleLinking",
            .product(name: "Crypto", package: "swift-crypto"),
            .product(name: "Yams", package: "Yams"),
        ]),
        .target(name: "SampleLinking", dependencies: ["AVDB", "Raster", .product(name: "Crypto", package: "swift-crypto")]),
        .executableTarget(name: "trainset", dependencies: [
            "Export", "BundleFormat",
            "LabelSchema", "AVDB", "CrashIsolation",
            .product(name: "ArgumentParser", package: "swift-argument-parser"),
        ]),

        .testTarget(name: "RasterTests", dependencies: ["Raster"]),
        .testTarget(name: "ImageFormatsTests", dependencies: ["ImageFormats", "Raster", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "HDF5Tests", dependencies: ["HDF5"]),
        .testTarget(name: "BundleFormatTests", dependencies: ["BundleFormat", "HDF5", "Raster", "LabelSchema",
                                                         .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "AVDBTests", dependencies: ["AVDB", "Raster", "ImageFormats"]),
        .testTarget(name: "TilingTests", dependencies: ["Tiling", "Raster"]),
        .testTarget(name: "LabelSchemaTests", dependencies: ["LabelSchema"]),
        .testTarget(name: "AugmentationTests", dependencies: ["Tiling", "Raster", "ImageFormats"]),
        .executableTarget(name: "TilingBenchmarks", dependencies: ["Tiling", "Raster"], path: "Benchmarks/TilingBenchmarks"),
        .testTarget(name: "ExportTests", dependencies: ["Export", "BundleFormat", "Raster", "ImageFormats", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "SampleLinkingTests", dependencies: ["SampleLinking", "AVDB", .product(name: "Crypto", package: "swift-crypto")]),
        .testTarget(name: "FuzzTests", dependencies: ["ImageFormats", "AVDB", "LabelSchema", "BundleFormat", "Export", "Raster",
                                                    "CrashIsolation"]),
    ],
    swiftLanguageModes: [.v6]
)

if let targetCPU {
    for target in package.targets where target.type != .system {
        target.swiftSettings = (target.swiftSettings ?? []) + [.unsafeFlags(["-target-cpu", targetCPU])]
    }
}
