/// What a coordinate-wise learned optimiser's network reads for each coordinate: two
/// features of the gradient history, `[P, 2]` for gradients `[P, 1]`.
/// - `logSign`: the log/sign preprocessing of Andrychowicz et al. (``GradientPreprocessing``).
/// - `adam`: RNNprop's features (Lv et al. 2017, "Learning Gradient Descent: Better
///   Generalization and Longer Horizons"), g / (√v̂ + ε) and m̂ / (√v̂ + ε), with m̂, v̂ Adam's
///   bias-corrected running means of g and g² (ε = 1e-8, and 1e-16 under the root so that its
///   derivative stays finite for a coordinate whose gradients are all 0). Scale-free, and
///   Adam's momentum is one of them. They need a `[P, 4]` state of running means
///   (``adamMoments(_:previous:beta1:beta2:)``).
public enum GradientInputs: String, Sendable {
    case logSign = "log_sign", adam

    /// Parses option `key` (absent: `logSign`); `owner` names the optimiser in the error.
    static func parse(_ config: inout Config, key: String, owner: String) throws -> GradientInputs {
        let name = config.string(key) ?? GradientInputs.logSign.rawValue
        guard let inputs = GradientInputs(rawValue: name) else {
            throw L2LError.invalid("\(owner): unknown \(key) '\(name)' (known: log_sign, adam)")
        }
        return inputs
    }

    /// Running means `[P, k]`, one column per sample `[P, 1]`: previous · β + sample · (1 − β),
    /// with column j's own decay β = `decays[j]`.
    static func runningMeans(_ previous: Tensor, _ samples: [Tensor], decays: [Float]) -> Tensor {
        let decay = Tensor(shape: [1, decays.count], scalars: decays)
        return previous * decay + Tensor.concatenate(samples, axis: 1) * (1 - decay)
    }

    /// The `[P, 4]` running means after gradients `g` `[P, 1]`: columns g and g² (decays β₁,
    /// β₂), then 1 under β₁ and under β₂, i.e. Adam's bias corrections 1 − β₁ᵗ and 1 − β₂ᵗ.
    static func adamMoments(_ g: Tensor, previous: Tensor, beta1: Float, beta2: Float) -> Tensor {
        let ones = Tensor.ones(g.shape)
        return runningMeans(previous, [g, g * g, ones, ones], decays: [beta1, beta2, beta1, beta2])
    }

    /// RNNprop's features `[P, 2]` from gradients `g` `[P, 1]` and their moments `[P, 4]`.
    static func adamFeatures(_ g: Tensor, moments m: Tensor) -> Tensor {
        let column = { (j: Int) in m.slice(axis: 1, j..<(j + 1)) }
        let rms = (column(1) / column(3) + 1e-16).sqrt() + 1e-8
        return Tensor.concatenate([g / rms, column(0) / column(2) / rms], axis: 1)
    }

    /// RNNprop's features `[P, 2]` after gradients `g` `[P, 1]`, and the running means
    /// `[P, 4]` they were read from (the state to keep for the next step).
    static func adamStep(_ g: Tensor, previous: Tensor, beta1: Float, beta2: Float) -> (features: Tensor, moments: Tensor) {
        let m = adamMoments(g, previous: previous, beta1: beta1, beta2: beta2)
        return (adamFeatures(g, moments: m), m)
    }

    /// The features of −g from those of g, `[P, 2]`: log|g| is even and everything else odd.
    func mirrored(_ x: Tensor) -> Tensor {
        x * Tensor(shape: [1, 2], scalars: [self == .logSign ? 1 : -1, -1])
    }
}

/// The `odd=1` option of the coordinate-wise optimisers: the network runs on the P
/// coordinates' features and then on their mirror images (the features of −g, each with a
/// state of its own), and the update is half the difference of the two outputs, so it is
/// an odd function of the gradient history, as SGD's, momentum's and Adam's are.
enum OddUpdate {
    /// `[2P, 2]`: the features `x` `[P, 2]`, then those of −g.
    static func withMirrors(_ x: Tensor, inputs: GradientInputs) -> Tensor {
        Tensor.concatenate([x, inputs.mirrored(x)], axis: 0)
    }

    /// ½·(out(g) − out(−g)) `[P, k]` from the network's outputs `[2P, k]`.
    static func halfDifference(_ out: Tensor) -> Tensor {
        let p = out.shape[0] / 2
        return (out.slice(axis: 0, 0..<p) - out.slice(axis: 0, p..<(2 * p))) * 0.5
    }
}
