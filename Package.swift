// swift-tools-version:6.0
//
// l2l — learning to learn, in Swift.
//
// Layers (data flows down, nothing flows up):
//   CL2L        C ABI (@_cdecl exports only) → the dynamic library libl2l.so
//   L2L         learners, optimisers, data sets, training loops
//   L2LTensor   tensors, reverse-mode autodiff (higher order), BLAS kernels, RNG
//   CKernels    l2l's own SIMD kernels (C: one source per instruction set, chosen at run time)
//   COpenBLAS   opens OpenBLAS (PyPI's scipy-openblas32, installed by scripts/setup.sh) at run time
//   CZlib       system library (Debian's zlib1g-dev)
import PackageDescription

/// Hot modules: no dynamic exclusivity checks in release builds (kernels work on raw pointers).
let fastRelease: [SwiftSetting] = [
    .unsafeFlags(["-enforce-exclusivity=unchecked"], .when(configuration: .release)),
]

let package = Package(
    name: "l2l",
    products: [
        // The C ABI: `swift build -c release` writes .build/release/libl2l.so.
        .library(name: "l2l", type: .dynamic, targets: ["CL2L"]),
        // The Swift API.
        .library(name: "L2L", targets: ["L2L"]),
        .executable(name: "l2l-bench", targets: ["L2LBench"]),
        .executable(name: "l2l-mlp-example", targets: ["MLPExample"]),
        .executable(name: "l2l-mlhf-experiments", targets: ["MLHFExperiments"]),
    ],
    targets: [
        // MARK: System libraries
        // The BLAS is opened at run time, not linked: scripts/setup.sh installs
        // libscipy_openblas.so (docs/measured.md, "Which BLAS, and why", says why this BLAS;
        // COpenBLAS, a small C target, how it is opened).
        .target(name: "COpenBLAS"),
        // l2l's fused kernels, in C so one source builds for AVX-512, AVX2 and baseline x86-64
        // (Swift compiles the whole package for one instruction set); CKernels.h says why.
        .target(name: "CKernels"),
        .systemLibrary(
            name: "CZlib", pkgConfig: "zlib",
            providers: [.apt(["zlib1g-dev"])]),

        // MARK: The library
        .target(
            name: "L2LTensor", dependencies: ["COpenBLAS", "CKernels"],
            swiftSettings: fastRelease),
        .target(
            name: "L2L", dependencies: ["L2LTensor", "CZlib"],
            swiftSettings: fastRelease),
        .target(
            name: "CL2L", dependencies: ["L2L"],
            swiftSettings: fastRelease),

        // MARK: Programs
        .executableTarget(
            name: "L2LBench", dependencies: ["L2L"],
            swiftSettings: fastRelease),
        .executableTarget(
            name: "MLPExample", dependencies: ["L2L"], path: "examples/swift/MLPExample"),
        .executableTarget(
            name: "MLHFExperiments", dependencies: ["L2L"], path: "examples/swift/MLHFExperiments",
            swiftSettings: fastRelease),

        // MARK: Tests
        .target(
            name: "L2LTestSupport", dependencies: ["L2L", "CZlib"],
            path: "Tests/L2LTestSupport"),
        .testTarget(
            name: "L2LTensorTests", dependencies: ["L2LTensor", "L2LTestSupport"]),
        .testTarget(
            name: "L2LTests", dependencies: ["L2L", "L2LTestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
