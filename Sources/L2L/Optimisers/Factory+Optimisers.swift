extension Factory {
    /// Optimiser kinds, each with its options (see the initialisers named):
    /// - `sgd`: `lr`=0.01, `momentum`=0, `nesterov`=0 (``SGD/init(config:defaultMomentum:nesterov:)``)
    /// - `momentum`: SGD with `lr`=0.01, `momentum`=0.9
    /// - `nesterov`: SGD with Nesterov momentum, `lr`=0.01, `momentum`=0.9
    /// - `adam`: `lr`=0.001, `beta1`=0.9, `beta2`=0.999, `eps`=1e-8, `eps_inside`=1 (``Adam/init(config:)``)
    /// - `rmsprop`: `lr`=0.01, `alpha`=0.99, `eps`=1e-8, `momentum`=0, `centered`=0 (``RMSprop/init(config:)``)
    /// - `adagrad`: `lr`=0.01, `lr_decay`=0, `initial_accumulator`=0, `eps`=1e-10 (``Adagrad/init(config:)``)
    /// - `smorms3`: `lr`=0.001, `eps`=1e-16 (``SMORMS3/init(config:)``)
    ///
    /// These step from a gradient; ``curvatureOptimiserKinds`` lists the others.
    public static let optimiserKinds = ["sgd", "momentum", "nesterov", "adam", "rmsprop", "adagrad", "smorms3"]

    /// Optimiser kinds that step from a model of the loss on the batch (sessions that
    /// ``OptimiserSession/needsCurvature``; ``optimiser(kind:options:)`` builds them too):
    /// - `hf_fixed`: Hessian-free, fixed damping: `lr`=0.5, `lambda`=1, `cg_iters`=10, `tol`=1e-5,
    ///   `warm_start`=0.95 (``HessianFreeFixed/init(config:)``)
    /// - `hf_lm`: Hessian-free, Levenberg–Marquardt damping: as `hf_fixed` but `lambda`=0.3 (initial), plus `decay`=2/3,
    ///   `lambda_min`=1e-3, `lambda_max`=1, `rho`=next|same (``HessianFreeLM/init(config:)``)
    public static let curvatureOptimiserKinds = ["hf_fixed", "hf_lm"]

    /// An optimiser of `kind` configured by `options`, wrapped with its state. Unknown kinds,
    /// unknown options and out-of-range values throw `.invalidArgument`.
    public static func optimiser(kind: String, options: String?) throws -> OptimiserSession {
        try build(kind, options) { config in
            switch kind {
            case "sgd": return OptimiserSession(try SGD(config: &config))
            case "momentum": return OptimiserSession(try SGD(config: &config, defaultMomentum: 0.9, nesterov: false))
            case "nesterov": return OptimiserSession(try SGD(config: &config, defaultMomentum: 0.9, nesterov: true))
            case "adam": return OptimiserSession(try Adam(config: &config))
            case "rmsprop": return OptimiserSession(try RMSprop(config: &config))
            case "adagrad": return OptimiserSession(try Adagrad(config: &config))
            case "smorms3": return OptimiserSession(try SMORMS3(config: &config))
            case "hf_fixed": return OptimiserSession(try HessianFreeFixed(config: &config))
            case "hf_lm": return OptimiserSession(try HessianFreeLM(config: &config))
            default: throw L2LError.invalid("unknown optimiser kind '\(kind)' (known: \((optimiserKinds + curvatureOptimiserKinds).joined(separator: ", ")))")
            }
        }
    }
}
