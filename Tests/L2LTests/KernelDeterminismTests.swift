@testable import L2L
import L2LTestSupport
import XCTest

/// The "same seed, same bits" promise across machines: a short meta-training gives the same
/// φ bit for bit whatever the number of threads l2l's own kernels use and whichever of the
/// CPU's instruction sets they run on (only the BLAS may differ between machines).
final class KernelDeterminismTests: XCTestCase {
    func metaTrainedPhi(_ kind: String, options: String, settings: String = "") throws -> [Float] {
        // 163 coordinates: enough rows for the LSTM kernels to split them across threads.
        let task = try MetaTask.checked(learner: try MLP(sizes: [6, 16, 3]), data: try gaussianBlobs(48, seed: 5))
        var config = try Config("trials=2 steps=10 unroll=5 batch=8 meta_lr=0.01 seed=3 " + settings, context: "test")
        let settings = try MetaTrainingConfig(config: &config)
        try config.finish()
        let opt = try Factory.learnedOptimiser(kind: kind, options: options, parameterShapes: task.parameterShapes)
        let trainer = try MetaTrainer(opt, tasks: [task], config: settings)
        try trainer.run()
        return trainer.meta.flatMap(\.scalars)
    }

    func testMetaTrainingGivesTheSameBitsForEveryThreadCountAndInstructionSet() throws {
        for (kind, options) in [("lstm", ""), ("dmsgd", "")] {
            try assertSameBitsOnEveryKernel(named: kind, threads: [1, 2]) { [try metaTrainedPhi(kind, options: options)] }
        }
    }

    /// ES and PES run their particles side by side, and the members of a meta-batch run side
    /// by side (`Kernels.parallelMap`): φ must not depend on how many threads share them,
    /// including counts that do not divide the work.
    func testParticlesAndMembersGiveTheSameBitsForEveryThreadCount() throws {
        for settings in ["estimator=pes es_pairs=3", "estimator=es es_pairs=2 meta_batch=2", "meta_batch=3"] {
            try assertSameBitsOnEveryKernel(named: settings, threads: [1, 2, 4]) {
                [try metaTrainedPhi("lstm", options: "", settings: settings)]
            }
        }
    }
}
