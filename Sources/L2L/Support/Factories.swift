/// Builds learners and optimisers from a kind name and an options text, so every front
/// door (C, Python, Swift) names and configures them the same way.
public enum Factory {
    /// Learner kinds: `mlp` (see ``MLP/init(config:)``).
    public static func learner(kind: String, options: String?) throws -> any Learner {
        var config = try Config(options, context: kind)
        let learner: any Learner
        switch kind {
        case "mlp": learner = try MLP(config: &config)
        default: throw L2LError.invalid("unknown learner kind '\(kind)' (known: mlp)")
        }
        try config.finish()
        return learner
    }

    /// Optimiser kinds: `sgd` (see ``SGD/init(config:)``).
    public static func optimiser(kind: String, options: String?) throws -> OptimiserSession {
        var config = try Config(options, context: kind)
        let session: OptimiserSession
        switch kind {
        case "sgd": session = OptimiserSession(try SGD(config: &config))
        default: throw L2LError.invalid("unknown optimiser kind '\(kind)' (known: sgd)")
        }
        try config.finish()
        return session
    }
}
