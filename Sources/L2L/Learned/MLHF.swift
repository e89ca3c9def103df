/// MLHF, meta-learning with Hessian-free (Chen et al.; the paper's Algorithm 1): each step
/// solves (G + diag(s)) d = g by a few iterations of preconditioned conjugate gradient,
/// where G is the Gauss-Newton matrix of the batch (``CurvatureModel``), and both the
/// damping vector s and the diagonal preconditioner P come from small learned networks:
///
///     s = softplus(RNN_s(tanh g, tanh r_prev, tanh d_prev)) + 2e-5
///     x₀ = d_prev;  r₀ = g − (G + diag(s)) x₀
///     P = softplus(RNN_p(tanh g, tanh r₀, tanh x₀))      (applied as y = P ⊙ r, as the authors' code)
///     d, r = PCG(g, G + diag(s), x₀, P, n)     (denominators floored at `cg_floor`)
///     θ ← θ − lr·d
///
/// Each RNN is coordinate-wise — two LSTM layers of 4 units (forget-gate bias +1), a 4 → 1
/// linear layer and softplus — with one weight set per ``ParameterKind`` (conv kernel, conv
/// bias, fc weight, fc bias, batch-norm γ and β), so 2 × 6 × 277 = 3,324 meta-parameters
/// whatever the learner: a MLHF trained on a convnet runs on a ResNet. Kinds the training
/// learner lacked keep their initial weights.
///
/// During meta-training only (the authors' code) the direction is clipped to a global norm of
/// `step_clip`·‖θ‖/lr and multiplied element-wise by noise ξ ~ U(1 − `noise`, 1 + `noise`).
///
/// Options (``init(config:)``): `cg_iters` (4), `cg_floor` (1e-6: without it, the
/// meta-gradient through 20 iterations overflowed on every meta-iteration of the ablation's
/// configuration 1), `lr` (1: b_tr/b_mt with equal batches),
/// `damping` (`rnn`, or a number for a constant λ), `preconditioner` (`rnn` or `none`),
/// `damping_floor` (2e-5), `step_clip` (0.25; 0 = off), `clip_when_used` (0: the clip acts
/// only while meta-training, as the authors' code; 1: also when MLHF is used), `noise`
/// (0.02), `hidden` (4,4).
/// `preconditioner=none` with `cg_iters=20` or `4` are the paper's ablation configurations 1
/// and 2.
public struct MLHF: Sendable {
    /// The two learned networks.
    public enum Role: String, CaseIterable, Sendable {
        case damping = "s", preconditioner = "p"
    }

    public let cgIterations: Int
    /// PCG's α and β denominators are floored here (``ConjugateGradient``; the authors' 1e-6).
    public let cgFloor: Float
    public let learningRate: Float
    /// A constant damping λ instead of RNN_s (`nil`: RNN_s).
    public let constantDamping: Float?
    public let learnedPreconditioner: Bool
    public let dampingFloor: Float
    public let stepClip: Float
    /// Apply the step clip when used (meta-testing) too, not only while meta-training.
    public let clipWhenUsed: Bool
    public let noise: Float
    /// The coordinate-wise network each (role, kind) pair has a weight set of.
    public let network: CoordinateLSTM

    public init(config: inout Config) throws {
        cgIterations = try config.int("cg_iters", default: 4, range: 1...10_000)
        cgFloor = try config.float("cg_floor", default: 1e-6, range: 0...1)
        learningRate = try config.float("lr", default: 1, range: 1e-9...1e6)
        switch config.string("damping") ?? "rnn" {
        case "rnn": constantDamping = nil
        case let text:
            guard let v = Config.decimal(text[...]), v >= 0 else {
                throw L2LError.invalid("mlhf: damping must be 'rnn' or a non-negative number, got '\(text)'")
            }
            constantDamping = v
        }
        learnedPreconditioner = try config.choice("preconditioner", default: true, ["rnn": true, "none": false])
        dampingFloor = try config.float("damping_floor", default: 2e-5, range: 0...1e6)
        stepClip = try config.float("step_clip", default: 0.25, range: 0...1e6)
        clipWhenUsed = try config.bool("clip_when_used", default: false)
        noise = try config.float("noise", default: 0.02, range: 0...0.99)
        network = try CoordinateLSTM(inputSize: 3, layers: try config.ints("hidden") ?? [4, 4], forgetBias: 1, inputBias: 0)
    }

    /// Builds from an options text such as `"cg_iters=4 preconditioner=none"` (`nil`: defaults).
    public init(options: String? = nil) throws {
        self = try Factory.build("mlhf", options) { try MLHF(config: &$0) }
    }

    /// The options text that rebuilds this MLHF.
    public var options: String {
        "cg_iters=\(cgIterations) cg_floor=\(cgFloor) lr=\(learningRate) damping=\(constantDamping.map { "\($0)" } ?? "rnn") "
            + "preconditioner=\(learnedPreconditioner ? "rnn" : "none") damping_floor=\(dampingFloor) "
            + "step_clip=\(stepClip) clip_when_used=\(clipWhenUsed ? 1 : 0) noise=\(noise) hidden=\(network.layers.map(String.init).joined(separator: ","))"
    }

    /// Tensors per (role, kind) weight set: the LSTM layers' and the linear layer's.
    var tensorsPerSet: Int { 3 * network.layers.count + 2 }

    /// `{role}.{kind}.lstm{l}.{w,u,b}`, `{role}.{kind}.out.w` `[H, 1]`, `{role}.{kind}.out.b` `[1]`,
    /// roles s then p, kinds in ``ParameterKind`` order.
    public var metaParameterSpecs: [MetaParameterSpec] {
        Role.allCases.flatMap { role in
            ParameterKind.allCases.flatMap { kind in
                let prefix = "\(role.rawValue).\(kind.rawValue)."
                return network.specs.map { MetaParameterSpec(name: prefix + $0.name, shape: $0.shape) }
                    + [MetaParameterSpec(name: prefix + "out.w", shape: [network.layers.last!, 1]),
                       MetaParameterSpec(name: prefix + "out.b", shape: [1])]
            }
        }
    }

    /// Fails with `.shapeMismatch` unless `meta` has the tensors and shapes of
    /// ``metaParameterSpecs``, and `.nonFinite` if one holds NaN or infinity.
    public func validate(meta: [Tensor]) throws {
        let specs = metaParameterSpecs
        try validateTensors(meta, names: specs.map(\.name), shapes: specs.map(\.shape), owner: "mlhf", item: "mlhf meta-parameter")
    }

    /// Which of φ's tensors belong to `role`.
    public func metaParameterRange(_ role: Role) -> Range<Int> {
        let n = ParameterKind.allCases.count * tensorsPerSet
        let r = Role.allCases.firstIndex(of: role)!
        return (r * n)..<((r + 1) * n)
    }

    /// φ before meta-training: each LSTM as ``CoordinateLSTM`` draws it, the linear layers
    /// Glorot-uniform with zero bias (the authors' code).
    public func initialMetaParameters(rng: inout RNG) -> [Tensor] {
        let h = network.layers.last!
        return Role.allCases.flatMap { _ in
            ParameterKind.allCases.flatMap { _ in
                network.initialParameters(rng: &rng)
                    + [Tensor.glorotUniform([h, 1], fanIn: h, fanOut: 1, rng: &rng), Tensor.zeros([1])]
            }
        }
    }

    /// The learner's parameter tensors grouped by kind, in order of first appearance: each
    /// group's coordinates run through that kind's networks as one batch.
    static func groups(_ kinds: [ParameterKind]) -> [(kind: ParameterKind, tensors: [Int])] {
        var order = [ParameterKind]()
        var members = [ParameterKind: [Int]]()
        for (i, k) in kinds.enumerated() {
            if members[k] == nil { order.append(k) }
            members[k, default: []].append(i)
        }
        return order.map { ($0, members[$0]!) }
    }

    /// The state before the first step on parameters of these shapes and kinds.
    public func initialState(for parameters: [Tensor], kinds: [ParameterKind]) -> MLHFState {
        let recurrent = Role.allCases.flatMap { _ in
            Self.groups(kinds).map { g in network.initialState(coordinates: g.tensors.reduce(0) { $0 + parameters[$1].count }) }
        }
        let zeros = parameters.map { Tensor.zeros($0.shape) }
        return MLHFState(recurrent: recurrent, solution: zeros, residual: zeros)
    }

    /// Runs `role`'s networks on the features (three lists shaped like the parameters,
    /// detached and squashed by tanh): softplus outputs, one tensor per parameter.
    func evaluate(_ role: Role, meta: [Tensor], features: [[Tensor]], groups: [(kind: ParameterKind, tensors: [Int])],
                  recurrent: inout [MLHFState.Recurrent]) -> [Tensor] {
        let shapes = features[0].map(\.shape)
        var out = [Tensor?](repeating: nil, count: shapes.count)
        let roleBase = metaParameterRange(role).lowerBound
        let stateBase = (Role.allCases.firstIndex(of: role)!) * groups.count
        let lstmTensors = 3 * network.layers.count
        for (gi, group) in groups.enumerated() {
            let x = Tensor.concatenate(features.map { list in coordinates(group.tensors.map { list[$0].detached() }).tanh() }, axis: 1)
            let base = roleBase + ParameterKind.allCases.firstIndex(of: group.kind)! * tensorsPerSet
            let (h, next) = network(x, parameters: meta[base..<(base + lstmTensors)], state: recurrent[stateBase + gi])
            recurrent[stateBase + gi] = next
            let y = (matmul(h, meta[base + lstmTensors]) + meta[base + lstmTensors + 1]).softplus()
            for (t, piece) in zip(group.tensors, split(y, like: group.tensors.map { shapes[$0] })) { out[t] = piece }
        }
        return out.map { $0! }
    }

    /// One MLHF step at `parameters` (kinds from the learner's ``ParameterSpec``s) on the
    /// batch `model` describes. Differentiable in `meta` (through s, P and the PCG that uses
    /// them); the learner's parameters, gradient and warm starts are constants, as the paper
    /// prescribes. `training` adds the step clip and noise (drawn from `rng`).
    public func step(meta: [Tensor], parameters: [Tensor], kinds: [ParameterKind], model: some CurvatureModel,
                     state: MLHFState, training: Bool, rng: inout RNG) -> MLHFStep {
        precondition(kinds.count == parameters.count, "MLHF.step: \(kinds.count) kinds for \(parameters.count) parameters")
        let g = model.gradients
        let groups = Self.groups(kinds)
        var recurrent = state.recurrent
        let x0 = state.solution.map { $0.detached() }
        let s: [Tensor]
        if let lambda = constantDamping {
            s = parameters.map { _ in Tensor(lambda + dampingFloor) }
        } else {
            s = evaluate(.damping, meta: meta, features: [g, state.residual, x0], groups: groups, recurrent: &recurrent)
                .map { $0 + dampingFloor }
        }
        let apply: ConjugateGradient.Operator = { model.dampedProduct($0, damping: s) }
        let warm = x0.contains { t in t.withUnsafeBufferPointer { $0.contains { $0 != 0 } } }
        // RNN_p reads r₀ = g − A x₀ as a constant (the paper stops gradients through r₀);
        // PCG itself keeps r₀ differentiable in s.
        let cg = ConjugateGradient.solve(apply, rhs: g, initialGuess: warm ? x0 : nil, preconditionerFor: { r0 in
            guard learnedPreconditioner else { return .none }
            return .multiply(evaluate(.preconditioner, meta: meta, features: [g, r0, x0], groups: groups, recurrent: &recurrent))
        }, maxIterations: cgIterations, denominatorFloor: cgFloor)
        let d = cg.solution
        // l_p's term −⟨d, g⟩ / √⟨d, A d⟩, with A d = g − r as the authors compute it.
        let dAd = ConjugateGradient.dot(d, zip(g, cg.residual).map { $0 - $1 })
        let lp = -ConjugateGradient.dot(d, g) / (dAd.relu() + 1e-20).sqrt()

        var direction = d
        if stepClip > 0, training || clipWhenUsed {
            let limit = stepClip * ConjugateGradient.norm(parameters) / learningRate
            // As clip_by_global_norm: the norm is differentiated too, so a clipped step's
            // length does not depend on φ.
            if ConjugateGradient.norm(d) > limit {
                let scale = limit / ConjugateGradient.dot(d, d).sqrt()
                direction = direction.map { $0 * scale }
            }
        }
        if training, noise > 0 {
            direction = direction.map { $0 * Tensor.uniform($0.shape, low: 1 - noise, high: 1 + noise, rng: &rng) }
        }
        let next = zip(parameters, direction).map { $0.detached() - $1 * learningRate }
        return MLHFStep(parameters: next,
                        state: MLHFState(recurrent: recurrent, solution: d.map { $0.detached() },
                                         residual: cg.residual.map { $0.detached() }),
                        preconditionLoss: lp, residualNorm: cg.residualNorm, iterations: cg.iterations,
                        damping: s)
    }
}

/// What one ``MLHF/step(meta:parameters:kinds:model:state:training:rng:)`` returns.
public struct MLHFStep {
    /// θ − lr·d: differentiable in φ.
    public var parameters: [Tensor]
    public var state: MLHFState
    /// −⟨d, g⟩ / √⟨d, (G + diag s) d⟩: the step's term of l_p (differentiable in φ).
    public var preconditionLoss: Tensor
    /// ‖r‖₂ after PCG, and the PCG iterations run.
    public var residualNorm: Float
    public var iterations: Int
    /// s, one tensor per parameter (each a scalar `[]` when the damping is constant).
    public var damping: [Tensor]
}

/// MLHF's memory between steps: the recurrent states of RNN_s and RNN_p for every kind
/// group's coordinates, and the last PCG solution and residual (the next warm start and
/// RNN_s's inputs).
public struct MLHFState: OptimiserState {
    /// One `[coordinates, 2·units]` tensor per LSTM layer, h then c (see ``CoordinateLSTM``).
    public typealias Recurrent = [Tensor]
    /// RNN_s's groups, then RNN_p's, in ``MLHF/groups(_:)`` order.
    public var recurrent: [Recurrent]
    /// d and r of the last step (zeros before the first), shaped like the parameters.
    public var solution: [Tensor]
    public var residual: [Tensor]

    public var slots: [String: [Tensor]] { ["solution": solution, "residual": residual] }

    /// The same values cut from the graph (the meta-training engine's unroll boundary).
    public func detached() -> MLHFState {
        MLHFState(recurrent: recurrent.map { $0.map { $0.detached() } }, solution: solution.map { $0.detached() },
                  residual: residual.map { $0.detached() })
    }
}

/// MLHF with fixed meta-parameters as a ``CurvatureOptimiser``: what meta-testing and the
/// training loop use. Built for a learner's parameter kinds.
public struct TrainedMLHF: CurvatureOptimiser {
    public let mlhf: MLHF
    public let meta: [Tensor]
    public let kinds: [ParameterKind]

    public init(_ mlhf: MLHF, meta: [Tensor], kinds: [ParameterKind]) throws {
        try mlhf.validate(meta: meta)
        self.mlhf = mlhf
        self.meta = meta.map { $0.detached() }
        self.kinds = kinds
    }

    public func initialState(for parameters: [Tensor]) -> MLHFState { mlhf.initialState(for: parameters, kinds: kinds) }

    public func check(parameters: [Tensor]) throws {
        guard parameters.count == kinds.count else {
            throw L2LError.shape("mlhf was set up for a learner with \(kinds.count) parameter tensors, not \(parameters.count)")
        }
    }

    public func step(parameters: [Tensor], model: some CurvatureModel, state: MLHFState) -> (parameters: [Tensor], state: MLHFState) {
        var rng = RNG(seed: 0)   // unused: no noise outside meta-training
        let s = withoutGraph { mlhf.step(meta: meta, parameters: parameters, kinds: kinds, model: model, state: state, training: false, rng: &rng) }
        return (s.parameters, s.state)
    }
}
