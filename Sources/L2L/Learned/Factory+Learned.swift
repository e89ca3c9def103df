extension Factory {
    /// Learned optimiser kinds: `lstm` (``LSTMOptimiser``), `meta_sgd` (``MetaSGD``),
    /// `dmsgd` and `m2sgd` (``DMSGD``), `mtl2l` (``MTL2L``). The per-parameter ones (Meta-SGD,
    /// DMSGD, M²SGD) are built for the learner whose parameter shapes are given.
    public static let learnedOptimiserKinds = ["lstm", "meta_sgd", "dmsgd", "m2sgd", "mtl2l"]

    /// An optimiser of `kind` configured by `options`, for a learner with these parameter
    /// shapes and (for MTL2L, whose `inputs` option it fills when not given) input features.
    public static func learnedOptimiser(kind: String, options: String?, parameterShapes: [[Int]],
                                        inputFeatures: Int? = nil) throws -> any LearnedOptimiser {
        try build(kind, options) { config -> any LearnedOptimiser in
            switch kind {
            case "lstm": return try LSTMOptimiser(config: &config)
            case "meta_sgd": return try MetaSGD(shapes: parameterShapes, config: &config)
            case "dmsgd": return try DMSGD(shapes: parameterShapes, masked: false, config: &config)
            case "m2sgd": return try DMSGD(shapes: parameterShapes, masked: true, config: &config)
            case "mtl2l": return try MTL2L(config: &config, defaultInputs: inputFeatures ?? 784)
            default: throw L2LError.invalid("unknown learned optimiser kind '\(kind)' (known: \(learnedOptimiserKinds.joined(separator: ", ")))")
            }
        }
    }
}
