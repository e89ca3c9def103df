import L2L
import XCTest

/// Runs `run` on every instruction set l2l's kernels support on this CPU, each with every
/// thread count of `threads` (both settings restored afterwards), and asserts that every
/// run returns the same bits as the first. `check` receives each run's outputs and a label
/// such as "avx2, 2 threads" (after `name`, if given) for assertions of its own.
public func assertSameBitsOnEveryKernel(named name: String = "", threads: [Int] = [1, 2, 3],
                                        file: StaticString = #filePath, line: UInt = #line,
                                        _ run: () throws -> [[Float]],
                                        check: ([[Float]], String) -> Void = { _, _ in }) rethrows {
    let (sets, savedThreads, savedSet) = (Kernels.instructionSets, Kernels.threads, Kernels.instructionSet)
    defer { Kernels.threads = savedThreads; Kernels.instructionSet = savedSet }
    XCTAssertFalse(sets.isEmpty, file: file, line: line)
    var reference: [[Float]]?
    for set in sets {
        for n in threads {
            Kernels.instructionSet = set
            Kernels.threads = n
            XCTAssertEqual(Kernels.instructionSet, set, file: file, line: line)
            let label = (name.isEmpty ? "" : name + " on ") + "\(set), \(n) threads"
            let result = try run()
            check(result, label)
            guard let reference else { reference = result; continue }
            XCTAssertEqual(result.count, reference.count, "\(label): output count", file: file, line: line)
            for (k, (a, b)) in zip(result, reference).enumerated() {
                let differing = zip(a, b).filter { $0.bitPattern != $1.bitPattern }.count
                XCTAssertEqual(differing, 0, "\(label): output \(k) differs in \(differing) of \(a.count) elements",
                               file: file, line: line)
            }
        }
    }
}
