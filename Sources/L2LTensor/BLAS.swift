import COpenBLAS
import Glibc

/// The BLAS that every matrix product (and so every convolution) runs on: OpenBLAS from
/// PyPI's scipy-openblas32 wheel (`libscipy_openblas.so`, which scripts/setup.sh installs),
/// opened on first use. Its kernels are chosen for the CPU when it opens, whatever
/// OPENBLAS_CORETYPE says (that variable is meant for other, older OpenBLAS builds in the
/// process); the environment variable L2L_BLAS_CORETYPE forces a kernel family by the names
/// OPENBLAS_CORETYPE takes (e.g. `Haswell`, `SkylakeX`, `Prescott`). See `Sources/COpenBLAS/include/COpenBLAS.h`.
public enum BLAS {
    /// What the loaded BLAS says about itself.
    ///
    ///     BLAS.info.core   // "Haswell": the kernels OpenBLAS picked for this CPU
    public struct Info: Sendable, Equatable {
        /// The library's name, "OpenBLAS".
        public let name: String
        /// Its version, e.g. "0.3.34.481.3".
        public let version: String
        /// The kernel family in use, e.g. "Haswell" or "SkylakeX".
        public let core: String
        /// Its build configuration, e.g. "OpenBLAS 0.3.34.481.3 DYNAMIC_ARCH NO_AFFINITY Haswell MAX_THREADS=64".
        public let config: String
        /// The file the dynamic loader opened ("" if the loader cannot tell).
        public let path: String
    }

    /// The loaded BLAS's description.
    public static var info: Info { library.info }

    /// The most threads a large product runs on: ``Kernels/threads``, but no more than the
    /// BLAS chose when it opened (so `OPENBLAS_NUM_THREADS=1` and `L2L_NUM_THREADS=1` each
    /// keep l2l on one core). Products under 100 MFLOP, and every product inside an item of
    /// ``Kernels/parallelMap(_:_:)``, run on one.
    public static var threads: Int { min(Kernels.threads, library.openingThreads) }

    /// CBLAS's row-major layout and transpose codes.
    static let rowMajor: Int32 = 101, noTranspose: Int32 = 111, transpose: Int32 = 112

    typealias Sgemm = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void

    /// The entry points l2l calls.
    struct Library: @unchecked Sendable {
        /// `cblas_sgemm`.
        let sgemm: Sgemm
        /// The number of threads level-3 routines use from now on.
        let setNumThreads: @convention(c) (Int32) -> Void
        /// The threads the library chose when it opened: OPENBLAS_NUM_THREADS,
        /// GOTO_NUM_THREADS or OMP_NUM_THREADS if set (so an OMP_NUM_THREADS meant for another
        /// library in the process caps it too), else the cores it sees. l2l never asks for more.
        let openingThreads: Int
        /// What the library says about itself.
        let info: Info
    }

    /// The library's file name, found by the dynamic loader (/usr/local/lib on a machine
    /// set up by scripts/setup.sh).
    static let file = "libscipy_openblas.so"

    /// Opened once, on first use; a machine without it stops the process with a message
    /// (as a missing shared library would at load time).
    static let library: Library = {
        guard let handle = blas_open(file) else {
            let reason = dlerror().map { String(cString: $0) } ?? "not found"
            fatalError("l2l: cannot open its BLAS, \(file) (\(reason)); run scripts/setup.sh")
        }
        func symbol<T>(_ name: String, as: T.Type) -> T {
            guard let p = dlsym(handle, "scipy_" + name) else { fatalError("l2l: \(file) has no scipy_\(name)") }
            return unsafeBitCast(p, to: T.self)
        }
        let sgemm = symbol("cblas_sgemm", as: Sgemm.self)
        let config = String(cString: symbol("openblas_get_config", as: (@convention(c) () -> UnsafePointer<CChar>).self)())
        let core = String(cString: symbol("openblas_get_corename", as: (@convention(c) () -> UnsafePointer<CChar>).self)())
        let words = config.split(separator: " ")
        let path = blas_file_of(unsafeBitCast(sgemm, to: UnsafeRawPointer.self)).map { String(cString: $0) } ?? ""
        let threads = Int(symbol("openblas_get_num_threads", as: (@convention(c) () -> Int32).self)())
        return Library(sgemm: sgemm, setNumThreads: symbol("openblas_set_num_threads", as: (@convention(c) (Int32) -> Void).self),
                       openingThreads: max(1, threads),
                       info: Info(name: words.first.map(String.init) ?? "", version: words.count > 1 ? String(words[1]) : "",
                                  core: core, config: config, path: path))
    }()
}
