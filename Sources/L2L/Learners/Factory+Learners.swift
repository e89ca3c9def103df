extension Factory {
    /// Learner kinds and their options: `mlp` (``MLP/init(config:)``), `convnet`
    /// (``Convnet/init(config:)``), `resnet` (``ResNet/init(config:)``; ResNet20 by default).
    public static let learnerKinds = ["mlp", "convnet", "resnet"]

    /// A learner of `kind` configured by `options` (`key=value` text; see ``Config``).
    public static func learner(kind: String, options: String?) throws -> any Learner {
        try build(kind, options) { config -> any Learner in
            switch kind {
            case "mlp": return try MLP(config: &config)
            case "convnet": return try Convnet(config: &config)
            case "resnet": return try ResNet(config: &config)
            default: throw L2LError.invalid("unknown learner kind '\(kind)' (known: \(learnerKinds.joined(separator: ", ")))")
            }
        }
    }
}
