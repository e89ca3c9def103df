extension Factory {
    /// Learned optimiser kinds: `lstm` (``LSTMOptimiser``), `meta_sgd` (``MetaSGD``),
    /// `dmsgd` and `m2sgd` (``DMSGD``). The per-parameter ones (Meta-SGD, DMSGD, M²SGD) are
    /// built for the learner whose parameter shapes are given.
    public static let learnedOptimiserKinds = ["lstm", "meta_sgd", "dmsgd", "m2sgd"]

    public static func learnedOptimiser(kind: String, options: String?, parameterShapes: [[Int]]) throws -> any LearnedOptimiser {
        try build(kind, options) { config -> any LearnedOptimiser in
            switch kind {
            case "lstm": return try LSTMOptimiser(config: &config)
            case "meta_sgd": return try MetaSGD(shapes: parameterShapes, config: &config)
            case "dmsgd": return try DMSGD(shapes: parameterShapes, masked: false, config: &config)
            case "m2sgd": return try DMSGD(shapes: parameterShapes, masked: true, config: &config)
            default: throw L2LError.invalid("unknown learned optimiser kind '\(kind)' (known: \(learnedOptimiserKinds.joined(separator: ", ")))")
            }
        }
    }
}
