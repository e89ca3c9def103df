import L2L
import L2LTestSupport
import XCTest

/// MLHF's φ in `.safetensors`: a round trip gives the same φ and the same steps, and the
/// reader refuses damaged files and files of other kinds with a clear error.
final class MLHFFileTests: XCTestCase {
    /// An MLHF with a φ unlike its initial one (so a reader that re-drew φ would be caught).
    func sample(_ options: String = "cg_iters=3 preconditioner=rnn") throws -> (mlhf: MLHF, meta: [Tensor]) {
        let mlhf = try MLHF(options: options)
        var rng = RNG(seed: 11)
        let meta = mlhf.initialMetaParameters(rng: &rng).map { $0 + Tensor.normal($0.shape, std: 0.05, rng: &rng) }
        return (mlhf, meta)
    }

    /// One step of `mlhf` with `meta` from a fixed learner, batch and warm state.
    func step(_ mlhf: MLHF, _ meta: [Tensor]) throws -> [Float] {
        let net = try MLP(sizes: [5, 7, 3])
        var rng = RNG(seed: 12)
        let state = net.initialState(rng: &rng)
        let x = Tensor.normal([16, 5], rng: &rng)
        let y = (0..<16).map { Int32($0 % 3) }
        let kinds = net.parameterSpecs.map(\.kind)
        let trained = try TrainedMLHF(mlhf, meta: meta, kinds: kinds)
        var params = state.parameters
        var optimiserState = trained.initialState(for: params)
        for _ in 0..<2 {   // the second step reads the first one's solution and residual
            let model = GaussNewton(learner: net, state: LearnerState(parameters: params), inputs: x, targets: .labels(y))
            (params, optimiserState) = trained.step(parameters: params, model: model, state: optimiserState)
        }
        return params.flatMap(\.scalars)
    }

    func testRoundTripGivesTheSameMetaParametersAndSteps() throws {
        let (mlhf, meta) = try sample()
        let path = temporaryDirectory() + "/mlhf.safetensors"
        try MLHFFile(mlhf, meta: meta).write(to: path)
        let raw = try SafetensorsFile(contentsOf: path)
        XCTAssertEqual(raw.metadata["format"], "l2l.learned_optimiser")
        XCTAssertEqual(raw.metadata["kind"], "mlhf")
        XCTAssertEqual(raw.metadata["options"], mlhf.options)
        XCTAssertEqual(raw.metadata["l2l_version"], Library.version)
        XCTAssertNotNil(raw.metadata["crc32"])
        XCTAssertEqual(raw.tensors.map(\.name), mlhf.metaParameterSpecs.map(\.name))

        let loaded = try MLHFFile.read(path)
        XCTAssertEqual(loaded.mlhf.options, mlhf.options)
        XCTAssertEqual(loaded.meta.flatMap(\.scalars), meta.flatMap(\.scalars))
        XCTAssertEqual(try step(loaded.mlhf, loaded.meta), try step(mlhf, meta))
        // Non-default options survive too.
        let (other, otherMeta) = try sample("damping=0.5 preconditioner=none cg_iters=7 hidden=3,2")
        try MLHFFile(other, meta: otherMeta).write(to: path)
        XCTAssertEqual(try MLHFFile.read(path).mlhf.options, other.options)
    }

    func testReaderRefusesDamagedFilesAndOtherKinds() throws {
        let (mlhf, meta) = try sample()
        let dir = temporaryDirectory()
        let path = dir + "/mlhf.safetensors"
        try MLHFFile(mlhf, meta: meta).write(to: path)
        let bytes = try SafetensorsFile(contentsOf: path).serialized()

        writeFile(dir + "/cut", Array(bytes.prefix(bytes.count - 5)))
        assertThrows(.format) { _ = try MLHFFile.read(dir + "/cut") }
        var altered = bytes
        altered[altered.count - 7] ^= 0x10
        writeFile(dir + "/altered", altered)
        assertThrows(.format, containing: "checksum") { _ = try MLHFFile.read(dir + "/altered") }
        assertThrows(.io) { _ = try MLHFFile.read(dir + "/missing.safetensors") }

        // Metadata that no longer fits the tensors, or does not make an MLHF.
        func rewritten(_ key: String, _ value: String?) throws -> String {
            var file = try SafetensorsFile(contentsOf: path)
            file.metadata[key] = value
            let target = dir + "/\(key).safetensors"
            try file.write(to: target)
            return target
        }
        assertThrows(.format, containing: "shape") { _ = try MLHFFile.read(try rewritten("options", "hidden=3,3")) }
        assertThrows(.format, containing: "do not make") { _ = try MLHFFile.read(try rewritten("options", "cg_iters=0")) }
        assertThrows(.format, containing: "not an l2l learned optimiser") { _ = try MLHFFile.read(try rewritten("format", "l2l.meta_checkpoint")) }
        assertThrows(.format, containing: "crc32") { _ = try MLHFFile.read(try rewritten("crc32", nil)) }
        // NaN in φ with a matching checksum is still refused.
        var poisoned = meta
        poisoned[0] = poisoned[0] * Float.nan
        var file = try SafetensorsFile(contentsOf: path)
        file.tensors[0].tensor = poisoned[0]
        file.metadata["crc32"] = nil
        writeFile(dir + "/nan", try file.serialized())
        assertThrows(.format, containing: "NaN") { _ = try MLHFFile.read(dir + "/nan") }

        // Each reader refuses the other's kind, saying what the file holds.
        let lstm = try Factory.learnedOptimiser(kind: "lstm", options: "preset=mtl2l", parameterShapes: [])
        var rng = RNG(seed: 1)
        try LearnedOptimiserFile(lstm, meta: lstm.initialMetaParameters(rng: &rng)).write(to: dir + "/lstm", parameterShapes: [])
        assertThrows(.format, containing: "'lstm', not MLHF") { _ = try MLHFFile.read(dir + "/lstm") }
        assertThrows(.format, containing: "MLHF") { _ = try LearnedOptimiserFile.read(path) }
        XCTAssertEqual(try LearnedOptimiserFile.read(dir + "/lstm").file.optimiser.kind, "lstm")

        // Writing checks φ first.
        assertThrows(.shapeMismatch) { _ = try MLHFFile(mlhf, meta: Array(meta.dropLast())) }
        assertThrows(.nonFinite) { _ = try MLHFFile(mlhf, meta: poisoned) }
    }

    /// A trainer started from a given φ holds it, and draws the learner, batches and noise
    /// from its seed as one that drew φ itself.
    func testTrainerStartsFromTheGivenMetaParameters() throws {
        let (mlhf, meta) = try sample()
        var rng = RNG(seed: 3)
        let data = try Dataset(inputs: Tensor.normal([32, 5], rng: &rng), labels: (0..<32).map { Int32($0 % 3) }, classes: 3)
        let net = try MLP(sizes: [5, 7, 3])
        var config = MLHFTrainingConfig()
        config.batchSize = 16
        config.unroll = 3
        let given = try MLHFTrainer(mlhf, learner: net, data: data, config: config, meta: meta)
        XCTAssertEqual(given.meta.flatMap(\.scalars), meta.flatMap(\.scalars))
        let drawn = try MLHFTrainer(mlhf, learner: net, data: data, config: config)
        XCTAssertEqual(try given.evaluate(meta: drawn.meta, unrolls: 1).trainingLoss,
                       try drawn.evaluate(unrolls: 1).trainingLoss)
        assertThrows(.shapeMismatch) { _ = try MLHFTrainer(mlhf, learner: net, data: data, config: config, meta: [Tensor(1)]) }
    }
}
