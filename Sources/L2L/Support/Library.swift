/// Facts about this build of l2l.
public enum Library {
    /// The version, as `major.minor.patch` (the C header's L2L_VERSION_STRING).
    public static let version = "0.1.0"

    /// What this build runs on, as `key=value` lines (the text of `l2l_build_info`):
    /// `version`, `configuration` (release or debug), `cores`, `kernels` (the instruction set
    /// l2l's own SIMD kernels run on: avx512, avx2 or baseline) and `kernel_threads`, and the BLAS's `blas`,
    /// `blas_threads` (the most a large product uses, ``BLAS/threads``), `blas_version`, `blas_core` (the kernels in use), `blas_config` and `blas_library`
    /// (the file loaded), as ``BLAS/info`` gives them (asking opens the BLAS if no product has yet).
    ///
    ///     version=0.1.0
    ///     configuration=release
    ///     cores=2
    ///     kernels=avx512
    ///     kernel_threads=2
    ///     blas=OpenBLAS
    ///     blas_threads=2
    ///     blas_version=0.3.34.481.3
    ///     blas_core=Haswell
    ///     blas_config=OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64
    ///     blas_library=/usr/local/lib/libscipy_openblas.so
    public static var buildInfo: String {
        #if DEBUG
        let configuration = "debug"
        #else
        let configuration = "release"
        #endif
        let blas = BLAS.info
        return [("version", version), ("configuration", configuration), ("cores", String(Kernels.cores)),
                ("kernels", Kernels.instructionSet), ("kernel_threads", String(Kernels.threads)),
                ("blas", blas.name), ("blas_threads", String(BLAS.threads)), ("blas_version", blas.version), ("blas_core", blas.core),
                ("blas_config", blas.config), ("blas_library", blas.path)]
            .map { "\($0)=\($1)\n" }.joined()
    }
}
