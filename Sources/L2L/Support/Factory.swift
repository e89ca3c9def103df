/// Builds learners and optimisers from a kind name and an options text, so every front
/// door (C, Python, Swift) names and configures them the same way. The kinds are listed in
/// `Factory+Learners.swift` and `Factory+Optimisers.swift`.
public enum Factory {
    /// Parses `options` for `kind`, runs `make`, then rejects any option `make` did not read.
    static func build<T>(_ kind: String, _ options: String?, _ make: (inout Config) throws -> T) throws -> T {
        var config = try Config(options, context: kind)
        let made = try make(&config)
        try config.finish()
        return made
    }
}
