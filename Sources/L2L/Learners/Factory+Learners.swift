extension Factory {
    /// Learner kinds and their options: `mlp` (see ``MLP/init(config:)``).
    public static let learnerKinds = ["mlp"]

    /// A learner of `kind` configured by `options` (`key=value` text; see ``Config``).
    public static func learner(kind: String, options: String?) throws -> any Learner {
        try build(kind, options) { config -> any Learner in
            switch kind {
            case "mlp": return try MLP(config: &config)
            default: throw L2LError.invalid("unknown learner kind '\(kind)' (known: \(learnerKinds.joined(separator: ", ")))")
            }
        }
    }
}
