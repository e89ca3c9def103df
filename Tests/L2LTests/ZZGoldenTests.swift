import Glibc
@testable import L2L
import L2LTestSupport
import XCTest

/// Uncommitted: prints digests of meta-training runs to compare before/after a refactor.
final class ZZGoldenTests: XCTestCase {
    func digest(_ xs: [Float]) -> String {
        var h: UInt64 = 1469598103934665603
        for x in xs { h = (h ^ UInt64(x.bitPattern)) &* 1099511628211 }
        return String(h, radix: 16)
    }
    func testGolden() throws {
        var rng = RNG(seed: 21)
        var x = Tensor.normal([32, 5], rng: &rng)
        let labels = (0..<32).map { Int32($0 % 3) }
        x.withUnsafeMutableBufferPointer { p in for i in 0..<32 { p[i * 5 + Int(labels[i])] += 2 } }
        let task = try MetaTask.checked(learner: try MLP(sizes: [5, 8, 3]), data: try Dataset(inputs: x, labels: labels, classes: 3))
        var out = [String]()
        for (kind, opts) in [("lstm", "layers=4 head_init=0.1"), ("dmsgd", "hidden=4"), ("meta_sgd", "lr=0.1"), ("m2sgd", "hidden=4 xi=0.001")] {
            for extra in ["", "second_order=1", "same_batch=1 clip=value", "warmup=30 clip=norm clip_at=0.5", "weights=0,0,1,0,2"] {
                let opt = try Factory.learnedOptimiser(kind: kind, options: opts, parameterShapes: task.parameterShapes)
                var c = try Config("trials=3 steps=20 unroll=5 batch=8 meta_lr=0.01 seed=3 " + extra, context: "t")
                let config = try MetaTrainingConfig(config: &c)
                let t = try MetaTrainer(opt, tasks: [task], config: config)
                try t.run()
                out.append("\(kind) [\(extra)] meta \(digest(t.meta.flatMap(\.scalars))) hist \(digest(t.history)) steps \(t.metaSteps) events \(t.events.count)")
            }
        }
        let q = MetaTask.quadratic(dimension: 10, distribution: .normal)
        let opt = try Factory.learnedOptimiser(kind: "lstm", options: "preset=paper", parameterShapes: q.parameterShapes)
        var c = MetaTrainingConfig(); c.trials = 5; c.unroll = 20
        let t = try MetaTrainer(opt, tasks: [q], config: c)
        try t.run()
        out.append("quadratic lstm meta \(digest(t.meta.flatMap(\.scalars))) hist \(digest(t.history))")
        // MLHF
        let mlhf = try MLHF(options: "cg_iters=2")
        var mc = try Config("iterations=4 unroll=3 batch=8 seed=2", context: "t")
        let mconf = try MLHFTrainingConfig(config: &mc)
        let mt = try MLHFTrainer(mlhf, learner: try MLP(sizes: [5, 8, 3]), data: try Dataset(inputs: x, labels: labels, classes: 3), config: mconf)
        try mt.run()
        out.append("mlhf meta \(digest(mt.meta.flatMap(\.scalars))) lp \(digest(mt.history.map(\.preconditionLoss))) ls \(digest(mt.history.map(\.dampingLoss)))")
        let text = out.joined(separator: "\n")
        print(text)
        let path = ProcessInfo.processInfo.environment["GOLDEN_OUT"] ?? "/work/golden/out.txt"
        try text.write(toFile: path, atomically: true, encoding: .utf8)
    }
}
