extension Factory {
    /// Optimiser kinds: `sgd` (see ``SGD/init(config:)``).
    public static let optimiserKinds = ["sgd"]

    /// An optimiser of `kind` configured by `options`, wrapped with its state.
    public static func optimiser(kind: String, options: String?) throws -> OptimiserSession {
        try build(kind, options) { config in
            switch kind {
            case "sgd": return OptimiserSession(try SGD(config: &config))
            default: throw L2LError.invalid("unknown optimiser kind '\(kind)' (known: \(optimiserKinds.joined(separator: ", ")))")
            }
        }
    }
}
