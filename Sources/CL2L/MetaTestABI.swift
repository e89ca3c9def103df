import Glibc
import L2L

// Meta-testing (include/l2l.h, "Meta-testing"): fresh learners trained with one optimiser,
// results as arrays and as JSON or CSV files.

/// The object behind an `l2l_meta_test*`.
final class MetaTestHandle {
    let result: MetaTestResult
    init(_ result: MetaTestResult) { self.result = result }
}

@_cdecl("l2l_meta_test_run")
public func l2l_meta_test_run(_ out: UnsafeMutablePointer<OpaquePointer?>?, _ learner: OpaquePointer?,
                              _ optimizer: OpaquePointer?, _ train: OpaquePointer?, _ test: OpaquePointer?,
                              _ options: UnsafePointer<CChar>?, _ progress: ProgressCallback?,
                              _ user: UnsafeMutableRawPointer?) -> Int32 {
    guarded {
        let out = try required(out, "out")
        let l = try object(learner, LearnerHandle.self, "learner").learner
        let o = try object(optimizer, OptimizerHandle.self, "optimizer")
        let trainSet = try object(train, DatasetHandle.self, "train").dataset
        let testSet = try object(test, DatasetHandle.self, "test").dataset
        var config = try Config(optionalString(options), context: "meta-test")
        let learners = try config.int("learners", default: 10, range: 1...1_000_000)
        let steps = try config.int("steps", default: 1000, range: 1...1_000_000_000)
        let batch = try config.int("batch", default: 128, range: 1...1_000_000)
        let evaluations = try config.ints("eval") ?? [steps]
        let seed = UInt64(try config.int("seed", default: 0, range: 0...Int.max))
        try config.finish()
        guard evaluations.allSatisfy({ (0...steps).contains($0) }), Set(evaluations).count == evaluations.count else {
            throw invalid("meta-test: eval=\(evaluations.map(String.init).joined(separator: ",")) must be distinct steps in 0...\(steps)")
        }
        _ = try matrixCount(learners, steps)
        try o.check(fits: l)
        let total = Int64(learners) * Int64(steps)
        let result = try MetaTester.run({ o.session.fresh() }, learner: l, train: trainSet, test: testSet,
                                        learners: learners, steps: steps, batchSize: batch,
                                        evaluationSteps: evaluations, seed: seed) { k, s in
            guard let progress else { return true }
            // MetaTester reports no loss to its callback: NaN stands for "not given".
            return progress(user, Int64(k) * Int64(steps) + Int64(s), total, .nan) == 0
        }
        store(MetaTestHandle(result), out)
    }
}

@_cdecl("l2l_meta_test_free")
public func l2l_meta_test_free(_ test: OpaquePointer?) { release(test, MetaTestHandle.self) }

@_cdecl("l2l_meta_test_info")
public func l2l_meta_test_info(_ test: OpaquePointer?, _ learners: UnsafeMutablePointer<Int64>?,
                               _ steps: UnsafeMutablePointer<Int64>?, _ evaluations: UnsafeMutablePointer<Int64>?,
                               _ tensors: UnsafeMutablePointer<Int64>?, _ sparsity: UnsafeMutablePointer<Double>?,
                               _ secondsPerStep: UnsafeMutablePointer<Double>?) -> Int32 {
    guarded {
        let r = try object(test, MetaTestHandle.self, "test").result
        learners?.pointee = Int64(r.trainingLoss.count)
        steps?.pointee = Int64(r.trainingLoss.first?.count ?? 0)
        evaluations?.pointee = Int64(r.evaluationSteps.count)
        tensors?.pointee = Int64(r.tensorSizes.count)
        sparsity?.pointee = r.sparsity
        secondsPerStep?.pointee = r.secondsPerStep
    }
}

@_cdecl("l2l_meta_test_curves")
public func l2l_meta_test_curves(_ test: OpaquePointer?, _ trainingLoss: UnsafeMutablePointer<Float>?,
                                 _ testLoss: UnsafeMutablePointer<Float>?, _ testAccuracy: UnsafeMutablePointer<Float>?,
                                 _ evaluationSteps: UnsafeMutablePointer<Int64>?) -> Int32 {
    guarded {
        let r = try object(test, MetaTestHandle.self, "test").result
        func rows(_ matrix: [[Float]], into out: UnsafeMutablePointer<Float>?) {
            guard let out else { return }
            var at = out
            for row in matrix {
                at.update(from: row, count: row.count)
                at += row.count
            }
        }
        rows(r.trainingLoss, into: trainingLoss)
        rows(r.testLoss, into: testLoss)
        rows(r.testAccuracy, into: testAccuracy)
        if let evaluationSteps {
            for (i, s) in r.evaluationSteps.enumerated() { evaluationSteps[i] = Int64(s) }
        }
    }
}

@_cdecl("l2l_meta_test_zero_weights")
public func l2l_meta_test_zero_weights(_ test: OpaquePointer?, _ zeros: UnsafeMutablePointer<Double>?,
                                       _ sizes: UnsafeMutablePointer<Int64>?, _ capacity: Int64) -> Int32 {
    guarded {
        let r = try object(test, MetaTestHandle.self, "test").result
        guard zeros != nil || sizes != nil else { return }
        guard capacity >= Int64(r.tensorSizes.count) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                           message: "buffers hold \(capacity) values, the \(r.tensorSizes.count) tensors need as many")
        }
        for i in r.tensorSizes.indices {
            zeros?[i] = r.zeroWeights[i]
            sizes?[i] = Int64(r.tensorSizes[i])
        }
    }
}

@_cdecl("l2l_meta_test_rates")
public func l2l_meta_test_rates(_ test: OpaquePointer?, _ available: UnsafeMutablePointer<Int32>?,
                                _ quantiles: UnsafeMutablePointer<Float>?, _ masked: UnsafeMutablePointer<Double>?,
                                _ saturated: UnsafeMutablePointer<Double>?, _ capacity: Int64) -> Int32 {
    guarded {
        let r = try object(test, MetaTestHandle.self, "test").result
        let available = try required(available, "available")
        guard capacity >= 0 else { throw invalid("capacity \(capacity) is negative") }
        available.pointee = r.hasRates ? 1 : 0
        guard r.hasRates, quantiles != nil || masked != nil || saturated != nil else { return }
        let entries = r.rates.count * r.evaluationSteps.count
        guard capacity >= Int64(entries) else {
            throw ABIError(status: L2L_ERR_BUFFER_TOO_SMALL,
                           message: "buffers hold \(capacity) entries, the \(r.rates.count) learners × \(r.evaluationSteps.count) evaluations need as many")
        }
        for (i, summary) in r.rates.joined().enumerated() {
            for q in 0..<5 { quantiles?[5 * i + q] = summary?.quantiles[q] ?? .nan }
            masked?[i] = summary?.maskedFraction ?? .nan
            saturated?[i] = summary?.saturatedFraction ?? .nan
        }
    }
}

@_cdecl("l2l_meta_test_save")
public func l2l_meta_test_save(_ test: OpaquePointer?, _ path: UnsafePointer<CChar>?, _ format: UnsafePointer<CChar>?) -> Int32 {
    guarded {
        let r = try object(test, MetaTestHandle.self, "test").result
        let path = try string(path, "path")
        let text: String
        switch try string(format, "format") {
        case "json": text = r.json()
        case "csv": text = r.csv()
        case let other: throw invalid("format must be \"json\" or \"csv\", got \"\(other)\"")
        }
        try writeText(text, to: path)
    }
}

/// Writes `text` to `path` atomically (a temporary file renamed over it); L2L_ERR_IO on failure.
func writeText(_ text: String, to path: String) throws {
    func failure(_ what: String, _ code: Int32) -> ABIError {
        ABIError(status: L2L_ERR_IO, message: "cannot \(what) '\(path)': \(String(cString: strerror(code)))")
    }
    let temporary = path + ".tmp"
    guard let file = fopen(temporary, "wb") else { throw failure("create", errno) }
    let bytes = Array(text.utf8)
    let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, $0.count, file) }
    var ok = written == bytes.count && fflush(file) == 0
    var code = errno
    if fclose(file) != 0 && ok { ok = false; code = errno }
    guard ok else {
        unlink(temporary)
        throw failure("write", code)
    }
    guard rename(temporary, path) == 0 else {
        code = errno
        unlink(temporary)
        throw failure("rename a temporary file to", code)
    }
}
