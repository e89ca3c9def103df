import COpenBLAS

/// The BLAS that every matrix product (and so every convolution) runs on, as loaded in
/// this process: OpenBLAS from PyPI's scipy-openblas32 wheel (see `Sources/COpenBLAS`).
public enum BLAS {
    /// What the loaded BLAS says about itself.
    ///
    ///     BLAS.info.core   // "Haswell": the kernels OpenBLAS picked for this CPU
    public struct Info: Sendable, Equatable {
        /// The library's name, "OpenBLAS".
        public let name: String
        /// Its version, e.g. "0.3.34.481.3".
        public let version: String
        /// The kernel family in use, e.g. "Haswell" or "SkylakeX" (chosen for the CPU at
        /// load time, unless the environment variable OPENBLAS_CORETYPE forced one).
        public let core: String
        /// Its build configuration, e.g. "OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
        public let config: String
        /// The file the dynamic loader loaded it from ("" if the loader cannot tell).
        public let path: String
    }

    /// The loaded BLAS's description (asked of the library once).
    public static let info: Info = {
        let config = String(cString: blas_config())
        let words = config.split(separator: " ")
        let path = blas_library_path().map { String(cString: $0) } ?? ""
        return Info(name: words.first.map(String.init) ?? "", version: words.count > 1 ? String(words[1]) : "",
                    core: String(cString: blas_core_name()), config: config, path: path)
    }()
}
