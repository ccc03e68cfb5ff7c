internal import CBLAS

/// The few OpenBLAS controls the tool needs; the kernels that use BLAS live beside it.
public enum BLAS {
    /// OpenBLAS's build description (version, target, threading), recorded in the manifest
    /// because floating-point results of BLAS kernels can differ between builds.
    public static var version: String { String(cString: openblas_get_config()) }

    /// Pins OpenBLAS's own thread pool to `n` threads. The pipeline parallelises over tiles
    /// itself, so it sets 1 to avoid oversubscribing cores.
    public static func setThreads(_ n: Int) {
        precondition(n >= 1 && n <= Int(Int32.max), "BLAS thread count must be ≥ 1, got \(n)")
        openblas_set_num_threads(Int32(n))
    }
}
