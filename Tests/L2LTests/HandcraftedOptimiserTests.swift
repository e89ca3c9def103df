import Foundation
import L2L
import L2LTestSupport
import XCTest

// Every hand-crafted optimiser against an independent re-implementation of its equations in
// plain Double loops (written here from the update rules, not from the library's code), on
// hand-written gradient sequences; the same optimisers through the factory in one
// table-driven smoke test; and meta-gradients in every hyper-parameter against finite
// differences.

// MARK: - Float64 references

/// One optimiser's update rule on a flat vector of coordinates, in Double.
private protocol Reference {
    mutating func step(_ theta: inout [Double], _ g: [Double])
}

private struct RefSGD: Reference {
    var lr: Double, momentum = 0.0, nesterov = false
    var velocity: [Double] = []
    mutating func step(_ theta: inout [Double], _ g: [Double]) {
        if velocity.isEmpty { velocity = Array(repeating: 0, count: g.count) }
        for i in g.indices {
            velocity[i] = momentum * velocity[i] + g[i]
            let d = nesterov ? g[i] + momentum * velocity[i] : velocity[i]
            theta[i] -= lr * d
        }
    }
}

private struct RefAdam: Reference {
    var lr = 1e-3, beta1 = 0.9, beta2 = 0.999, eps = 1e-8, inside = true
    var t = 0, m: [Double] = [], v: [Double] = []
    mutating func step(_ theta: inout [Double], _ g: [Double]) {
        if m.isEmpty { m = Array(repeating: 0, count: g.count); v = m }
        t += 1
        for i in g.indices {
            m[i] = beta1 * m[i] + (1 - beta1) * g[i]
            v[i] = beta2 * v[i] + (1 - beta2) * g[i] * g[i]
            let mHat = m[i] / (1 - pow(beta1, Double(t)))
            let vHat = v[i] / (1 - pow(beta2, Double(t)))
            let denominator = inside ? (vHat + eps * eps).squareRoot() : vHat.squareRoot() + eps
            theta[i] -= lr * mHat / denominator
        }
    }
}

private struct RefRMSprop: Reference {
    var lr = 1e-2, alpha = 0.99, eps = 1e-8, momentum = 0.0, centered = false
    var square: [Double] = [], mean: [Double] = [], buffer: [Double] = []
    mutating func step(_ theta: inout [Double], _ g: [Double]) {
        if square.isEmpty { square = Array(repeating: 0, count: g.count); mean = square; buffer = square }
        for i in g.indices {
            square[i] = alpha * square[i] + (1 - alpha) * g[i] * g[i]
            var s = square[i]
            if centered {
                mean[i] = alpha * mean[i] + (1 - alpha) * g[i]
                s = max(s - mean[i] * mean[i], 0)
            }
            let d = g[i] / (s.squareRoot() + eps)
            if momentum > 0 {
                buffer[i] = momentum * buffer[i] + d
                theta[i] -= lr * buffer[i]
            } else {
                theta[i] -= lr * d
            }
        }
    }
}

private struct RefAdagrad: Reference {
    var lr = 1e-2, decay = 0.0, initial = 0.0, eps = 1e-10
    var t = 0, sum: [Double] = []
    mutating func step(_ theta: inout [Double], _ g: [Double]) {
        if sum.isEmpty { sum = Array(repeating: initial, count: g.count) }
        t += 1
        let rate = lr / (1 + Double(t - 1) * decay)
        for i in g.indices {
            sum[i] += g[i] * g[i]
            theta[i] -= rate * g[i] / (sum[i].squareRoot() + eps)
        }
    }
}

/// Simon Funk's SMORMS3, as in his 2015 post.
private struct RefSMORMS3: Reference {
    var lr = 1e-3, eps = 1e-16
    var mem: [Double] = [], g1: [Double] = [], g2: [Double] = []
    /// Every x = ḡ²/(ḡ₂ + ε) computed, to see which side of min(lr, x) was taken.
    var xs: [Double] = []
    mutating func step(_ theta: inout [Double], _ grad: [Double]) {
        if mem.isEmpty { mem = Array(repeating: 1, count: grad.count); g1 = Array(repeating: 0, count: grad.count); g2 = g1 }
        for i in grad.indices {
            let r = 1 / (mem[i] + 1)
            g1[i] = (1 - r) * g1[i] + r * grad[i]
            g2[i] = (1 - r) * g2[i] + r * grad[i] * grad[i]
            let x = g1[i] * g1[i] / (g2[i] + eps)
            xs.append(x)
            theta[i] -= grad[i] * min(lr, x) / (g2[i].squareRoot() + eps)
            mem[i] = 1 + mem[i] * (1 - x)
        }
    }
}

// MARK: - Fixtures

/// Five coordinates laid out as two parameter tensors of shapes [2] and [1, 3].
private let shapes = [[2], [1, 3]]

private func split(_ flat: [Double]) -> [Tensor] {
    var offset = 0
    return shapes.map { shape in
        let n = shape.reduce(1, *)
        defer { offset += n }
        return Tensor(shape: shape, scalars: flat[offset..<offset + n].map { Float($0) })
    }
}

private func flatten(_ tensors: [Tensor]) -> [Double] { tensors.flatMap { $0.scalars.map(Double.init) } }

private let theta0: [Double] = [1, -2, 0.5, 3, -0.1]
/// Hand-written gradients: coordinate 2 is always zero (its second moment stays 0), step 4
/// is all zeros, the others change sign and size.
private let gradientSequence: [[Double]] = [
    [0.5, -1.0, 0, 2.0, -0.25],
    [-0.3, -0.7, 0, 1.5, 0.25],
    [0.1, 0.4, 0, -2.0, 0],
    [0, 0, 0, 0, 0],
    [0.05, -0.02, 0, 3.0, -0.5],
]

/// The parameters after each step of `optimiser` on `gradientSequence`, as Doubles.
private func trajectory<O: Optimiser>(_ optimiser: O) -> [[Double]] {
    var params = split(theta0)
    var state = optimiser.initialState(for: params)
    return gradientSequence.map { g in
        (params, state) = optimiser.step(parameters: params, gradients: split(g), state: state)
        XCTAssertEqual(params.map(\.shape), shapes)
        return flatten(params)
    }
}

private func referenceTrajectory(_ reference: any Reference) -> [[Double]] {
    var r = reference, theta = theta0
    return gradientSequence.map { g in
        r.step(&theta, g)
        return theta
    }
}

/// The meta-learning problem: L(θ) = Σ ½·a·(θ − c)² + ¼·b·θ⁴. Coordinate 2 starts at its
/// minimum (θ = c = 0, b = 0), so its gradient and second moment stay exactly 0.
private enum Problem {
    static let theta0: [Double] = [0.8, -1.2, 0, 0.5, 2.0]
    static let a: [Double] = [1, 2, 1, 0.5, 1.5]
    static let c: [Double] = [0.3, 0.1, 0, -0.4, 1.0]
    static let b: [Double] = [0.1, 0.2, 0, 0.3, 0.1]

    static func loss(_ theta: [Tensor]) -> Tensor {
        let (a, c, b) = (split(Problem.a), split(Problem.c), split(Problem.b))
        return theta.indices.map { k -> Tensor in
            let d = theta[k] - c[k]
            return (0.5 * a[k] * d * d + 0.25 * b[k] * theta[k].pow(4)).sum()
        }.reduce(Tensor(0), +)
    }

    static func loss(_ theta: [Double]) -> Double {
        theta.indices.reduce(0) { s, i in s + 0.5 * a[i] * pow(theta[i] - c[i], 2) + 0.25 * b[i] * pow(theta[i], 4) }
    }

    static func gradient(_ theta: [Double]) -> [Double] {
        theta.indices.map { i in a[i] * (theta[i] - c[i]) + b[i] * pow(theta[i], 3) }
    }

    static let steps = 2
}

/// L(θ after `Problem.steps` steps of `optimiser` from `Problem.theta0`), each step's gradient
/// taken by autodiff with its graph kept, so the result is differentiable in everything the
/// optimiser's steps depend on (its hyper-parameters, and θ₀ when it is tracked).
private func metaLoss<O: Optimiser>(_ optimiser: O, from start: [Tensor]? = nil) -> (loss: Tensor, state: O.State) {
    var theta = start ?? split(Problem.theta0).map { $0.tracked() }
    var state = optimiser.initialState(for: theta)
    for _ in 0..<Problem.steps {
        let g = gradients(of: Problem.loss(theta), wrt: theta, createGraph: true)
        (theta, state) = optimiser.step(parameters: theta, gradients: g, state: state)
    }
    return (Problem.loss(theta), state)
}

private func referenceMetaLoss(_ reference: any Reference) -> Double {
    var r = reference, theta = Problem.theta0
    for _ in 0..<Problem.steps { r.step(&theta, Problem.gradient(theta)) }
    return Problem.loss(theta)
}

// MARK: - Tests

final class HandcraftedOptimiserTests: XCTestCase {
    private struct Case {
        let name: String
        let run: () throws -> [[Double]]
        let reference: any Reference
    }

    private static let cases: [Case] = [
        Case(name: "sgd lr 0.1", run: { trajectory(try SGD(learningRate: 0.1)) }, reference: RefSGD(lr: 0.1)),
        Case(name: "sgd momentum 0.9", run: { trajectory(try SGD(learningRate: 0.1, momentum: 0.9)) },
             reference: RefSGD(lr: 0.1, momentum: 0.9)),
        Case(name: "sgd nesterov 0.9", run: { trajectory(try SGD(learningRate: 0.1, momentum: 0.9, nesterov: true)) },
             reference: RefSGD(lr: 0.1, momentum: 0.9, nesterov: true)),
        Case(name: "sgd nesterov 0.5 lr 0.3", run: { trajectory(try SGD(learningRate: 0.3, momentum: 0.5, nesterov: true)) },
             reference: RefSGD(lr: 0.3, momentum: 0.5, nesterov: true)),
        Case(name: "adam defaults", run: { trajectory(try Adam()) }, reference: RefAdam()),
        Case(name: "adam defaults, textbook eps", run: { trajectory(try Adam(epsilonInside: false)) },
             reference: RefAdam(inside: false)),
        Case(name: "adam eps 0.1 inside", run: { trajectory(try Adam(learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 0.1)) },
             reference: RefAdam(lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 0.1)),
        Case(name: "adam eps 0.1 textbook",
             run: { trajectory(try Adam(learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 0.1, epsilonInside: false)) },
             reference: RefAdam(lr: 0.1, beta1: 0.8, beta2: 0.9, eps: 0.1, inside: false)),
        Case(name: "adam beta1 0", run: { trajectory(try Adam(learningRate: 0.05, beta1: 0, beta2: 0.5)) },
             reference: RefAdam(lr: 0.05, beta1: 0, beta2: 0.5)),
        Case(name: "rmsprop defaults", run: { trajectory(try RMSprop()) }, reference: RefRMSprop()),
        Case(name: "rmsprop momentum", run: { trajectory(try RMSprop(learningRate: 0.05, alpha: 0.9, momentum: 0.5)) },
             reference: RefRMSprop(lr: 0.05, alpha: 0.9, momentum: 0.5)),
        Case(name: "rmsprop centered", run: { trajectory(try RMSprop(learningRate: 0.05, alpha: 0.9, centered: true)) },
             reference: RefRMSprop(lr: 0.05, alpha: 0.9, centered: true)),
        Case(name: "rmsprop centered momentum eps",
             run: { trajectory(try RMSprop(learningRate: 0.02, alpha: 0.8, epsilon: 0.01, momentum: 0.9, centered: true)) },
             reference: RefRMSprop(lr: 0.02, alpha: 0.8, eps: 0.01, momentum: 0.9, centered: true)),
        Case(name: "adagrad defaults", run: { trajectory(try Adagrad()) }, reference: RefAdagrad()),
        Case(name: "adagrad decay, accumulator, eps",
             run: { trajectory(try Adagrad(learningRate: 0.2, learningRateDecay: 0.5, initialAccumulator: 0.1, epsilon: 1e-3)) },
             reference: RefAdagrad(lr: 0.2, decay: 0.5, initial: 0.1, eps: 1e-3)),
        Case(name: "smorms3 defaults", run: { trajectory(try SMORMS3()) }, reference: RefSMORMS3()),
        Case(name: "smorms3 lr 0.3", run: { trajectory(try SMORMS3(learningRate: 0.3)) }, reference: RefSMORMS3(lr: 0.3)),
        Case(name: "smorms3 lr 0.3 eps 0.01", run: { trajectory(try SMORMS3(learningRate: 0.3, epsilon: 0.01)) },
             reference: RefSMORMS3(lr: 0.3, eps: 0.01)),
    ]

    /// Every step of every case against the Float64 reference: the parameters, and each
    /// step's displacement θ_t − θ_{t−1} (which a small learning rate would hide in θ).
    func testEveryOptimiserMatchesItsEquationsInFloat64() throws {
        for c in Self.cases {
            let got = try c.run(), want = referenceTrajectory(c.reference)
            XCTAssertEqual(got.count, gradientSequence.count, c.name)
            for t in got.indices {
                assertClose(got[t].map { Float($0) }, want[t].map { Float($0) }, atol: 1e-6, rtol: 1e-5, "\(c.name), step \(t + 1)")
                let before = t == 0 ? theta0 : got[t - 1], referenceBefore = t == 0 ? theta0 : want[t - 1]
                for i in theta0.indices {
                    let moved = got[t][i] - before[i], expected = want[t][i] - referenceBefore[i]
                    // The float step is exact up to rounding θ_t (half an ulp, ≤ 2.4e-7 for
                    // |θ| < 4) and a relative error of a few float roundings in the step.
                    XCTAssertLessThanOrEqual(abs(moved - expected), 2.5e-7 + 2e-5 * abs(expected),
                                             "\(c.name), step \(t + 1), coordinate \(i): moved \(moved), expected \(expected)")
                }
            }
            // The always-zero coordinate never moves, in any optimiser.
            XCTAssertEqual(got.map { $0[2] }, Array(repeating: 0.5, count: got.count), c.name)
        }
    }

    /// The cases really exercise what they claim: ε's placement matters at ε = 0.1, and
    /// SMORMS3 at lr 0.3 takes both sides of min(lr, x).
    func testCasesCoverBothFormsAndBothBranches() throws {
        let inside = try trajectory(Adam(learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 0.1))
        let textbook = try trajectory(Adam(learningRate: 0.1, beta1: 0.8, beta2: 0.9, epsilon: 0.1, epsilonInside: false))
        XCTAssertGreaterThan(abs(inside[0][0] - textbook[0][0]), 1e-3)
        var smorms = RefSMORMS3(lr: 0.3), theta = theta0
        for g in gradientSequence { smorms.step(&theta, g) }
        XCTAssertTrue(smorms.xs.contains { $0 > 0.3 + 1e-3 }, "no step took lr")
        XCTAssertTrue(smorms.xs.contains { $0 > 1e-3 && $0 < 0.3 - 1e-3 }, "no step took x")
        // Hand-checkable first SMORMS3 step: mem = 1 → r = ½, ḡ = g/2, ḡ₂ = g²/2, x = ½,
        // so θ moves by −min(lr, ½)·g/√(g²/2) = −lr·√2·sign(g).
        let first = try trajectory(SMORMS3(learningRate: 0.3))[0]
        assertClose(first.map { Float($0) }, [1 - 0.3 * 2.0.squareRoot(), -2 + 0.3 * 2.0.squareRoot(), 0.5,
                                             3 - 0.3 * 2.0.squareRoot(), -0.1 + 0.3 * 2.0.squareRoot()].map { Float($0) },
                    atol: 1e-6, "smorms3 first step")
    }

    func testStateSlotsHaveTheParameterShapes() throws {
        let params = split(theta0)
        let slots: [(String, [String: [Tensor]])] = try [
            ("sgd", SGD(learningRate: 0.1).initialState(for: params).slots),
            ("momentum", SGD(learningRate: 0.1, momentum: 0.9).initialState(for: params).slots),
            ("adam", Adam().initialState(for: params).slots),
            ("rmsprop", RMSprop(momentum: 0.5, centered: true).initialState(for: params).slots),
            ("adagrad", Adagrad(initialAccumulator: 0.25).initialState(for: params).slots),
            ("smorms3", SMORMS3().initialState(for: params).slots),
        ]
        let expected: [String: [String]] = ["sgd": [], "momentum": ["velocity"], "adam": ["m", "v"],
                                            "rmsprop": ["grad_avg", "momentum_buffer", "square_avg"],
                                            "adagrad": ["sum"], "smorms3": ["g", "g2", "mem"]]
        for (name, s) in slots {
            XCTAssertEqual(s.keys.sorted(), expected[name], name)
            for (slot, tensors) in s { XCTAssertEqual(tensors.map(\.shape), shapes, "\(name).\(slot)") }
        }
        XCTAssertEqual(try Adagrad(initialAccumulator: 0.25).initialState(for: params).sum[1].scalars, [0.25, 0.25, 0.25])
        XCTAssertEqual(try SMORMS3().initialState(for: params).memory[0].scalars, [1, 1])
        // A tracked momentum keeps its buffer even at 0, so its gradient there can be taken.
        XCTAssertEqual(try SGD(learningRate: Tensor(0.1), momentum: Tensor(0).tracked()).initialState(for: params).velocities.count, 2)
    }

    // MARK: Through the factory

    private struct Kind {
        let name: String
        let slots: [String]
        /// Every documented option with a non-default value, and the same optimiser built directly.
        let options: String
        let direct: () throws -> OptimiserSession
        let defaults: () throws -> OptimiserSession
    }

    private static let kinds: [Kind] = [
        Kind(name: "sgd", slots: [], options: "lr=0.05 momentum=0.5 nesterov=1",
             direct: { OptimiserSession(try SGD(learningRate: 0.05, momentum: 0.5, nesterov: true)) },
             defaults: { OptimiserSession(try SGD(learningRate: 0.01)) }),
        Kind(name: "momentum", slots: ["velocity"], options: "lr=0.05 momentum=0.5",
             direct: { OptimiserSession(try SGD(learningRate: 0.05, momentum: 0.5)) },
             defaults: { OptimiserSession(try SGD(learningRate: 0.01, momentum: 0.9)) }),
        Kind(name: "nesterov", slots: ["velocity"], options: "lr=0.05 momentum=0.5",
             direct: { OptimiserSession(try SGD(learningRate: 0.05, momentum: 0.5, nesterov: true)) },
             defaults: { OptimiserSession(try SGD(learningRate: 0.01, momentum: 0.9, nesterov: true)) }),
        Kind(name: "adam", slots: ["m", "v"], options: "lr=0.01 beta1=0.8 beta2=0.99 eps=1e-3 eps_inside=0",
             direct: { OptimiserSession(try Adam(learningRate: 0.01, beta1: 0.8, beta2: 0.99, epsilon: 1e-3, epsilonInside: false)) },
             defaults: { OptimiserSession(try Adam(learningRate: 1e-3, beta1: 0.9, beta2: 0.999, epsilon: 1e-8, epsilonInside: true)) }),
        Kind(name: "rmsprop", slots: ["square_avg"], options: "lr=0.005 alpha=0.9 eps=1e-4 momentum=0.5 centered=1",
             direct: { OptimiserSession(try RMSprop(learningRate: 0.005, alpha: 0.9, epsilon: 1e-4, momentum: 0.5, centered: true)) },
             defaults: { OptimiserSession(try RMSprop(learningRate: 1e-2, alpha: 0.99, epsilon: 1e-8, momentum: 0, centered: false)) }),
        Kind(name: "adagrad", slots: ["sum"], options: "lr=0.05 lr_decay=0.1 initial_accumulator=0.5 eps=1e-6",
             direct: { OptimiserSession(try Adagrad(learningRate: 0.05, learningRateDecay: 0.1, initialAccumulator: 0.5, epsilon: 1e-6)) },
             defaults: { OptimiserSession(try Adagrad(learningRate: 1e-2, learningRateDecay: 0, initialAccumulator: 0, epsilon: 1e-10)) }),
        Kind(name: "smorms3", slots: ["g", "g2", "mem"], options: "lr=0.01 eps=1e-8",
             direct: { OptimiserSession(try SMORMS3(learningRate: 0.01, epsilon: 1e-8)) },
             defaults: { OptimiserSession(try SMORMS3(learningRate: 1e-3, epsilon: 1e-16)) }),
    ]

    /// f(θ) = ½ Σ a·(θ − c)² over a [3] and a [2, 2] tensor; ∇f = a·(θ − c).
    private static let quadratic = (
        theta: [Tensor(shape: [3], scalars: [1, -2, 0.5]), Tensor(shape: [2, 2], scalars: [0.3, -0.7, 1.5, 0])],
        a: [Tensor(shape: [3], scalars: [1, 2, 0.5]), Tensor(shape: [2, 2], scalars: [1.5, 1, 3, 0.25])],
        c: [Tensor(shape: [3], scalars: [0.2, -1, 0]), Tensor(shape: [2, 2], scalars: [0, 0, 1, 0.5])]
    )

    private static func quadraticLoss(_ theta: [Tensor]) -> Float {
        theta.indices.map { k in (0.5 * quadratic.a[k] * (theta[k] - quadratic.c[k]).pow(2)).sum().scalar }.reduce(0, +)
    }

    private static func quadraticGradient(_ theta: [Tensor]) -> [Tensor] {
        theta.indices.map { k in quadratic.a[k] * (theta[k] - quadratic.c[k]) }
    }

    /// Runs `steps` steps of `session` on the quadratic; returns the parameters and the
    /// loss before each step and after the last.
    private static func descend(_ session: OptimiserSession, steps: Int) throws -> (theta: [Tensor], losses: [Float]) {
        var theta = quadratic.theta, losses = [quadraticLoss(theta)]
        for _ in 0..<steps {
            try session.step(&theta, gradients: quadraticGradient(theta))
            losses.append(quadraticLoss(theta))
        }
        return (theta, losses)
    }

    func testEveryFactoryKindPassesTheSmokeChecks() throws {
        XCTAssertEqual(Set(Factory.optimiserKinds), Set(Self.kinds.map(\.name)), "the table must cover every kind")
        for kind in Self.kinds {
            let name = kind.name
            // Defaults: 50 steps lower the loss, and the state matches the parameters.
            let session = try Factory.optimiser(kind: name, options: nil)
            XCTAssertTrue(session.stateSlots.isEmpty, "\(name): no state before the first step")
            let (theta, losses) = try Self.descend(session, steps: 50)
            XCTAssertEqual(session.steps, 50, name)
            XCTAssertTrue(losses.allSatisfy(\.isFinite), "\(name): \(losses)")
            XCTAssertLessThan(losses.last!, 0.98 * losses.first!, "\(name): loss \(losses.first!) → \(losses.last!)")
            XCTAssertEqual(theta.map(\.shape), [[3], [2, 2]], name)
            XCTAssertEqual(session.stateSlots.keys.sorted(), kind.slots, name)
            for (slot, tensors) in session.stateSlots {
                XCTAssertEqual(tensors.map(\.shape), [[3], [2, 2]], "\(name).\(slot)")
                XCTAssertTrue(tensors.allSatisfy(\.isFinite), "\(name).\(slot)")
            }
            // Same inputs, same outputs: a second session repeats the run bit for bit, and so
            // does the directly built optimiser with the documented defaults.
            let again = try Self.descend(Factory.optimiser(kind: name, options: nil), steps: 50)
            XCTAssertEqual(again.theta.map(\.scalars), theta.map(\.scalars), name)
            XCTAssertEqual(again.losses, losses, name)
            XCTAssertEqual(try Self.descend(kind.defaults(), steps: 50).theta.map(\.scalars), theta.map(\.scalars),
                           "\(name): factory defaults differ from the documented ones")
            // Every documented key is read: the factory with all options set equals the
            // directly built optimiser, and differs from the defaults.
            let configured = try Self.descend(Factory.optimiser(kind: name, options: kind.options), steps: 5).theta
            XCTAssertEqual(configured.map(\.scalars), try Self.descend(kind.direct(), steps: 5).theta.map(\.scalars), name)
            XCTAssertNotEqual(configured.map(\.scalars), try Self.descend(kind.defaults(), steps: 5).theta.map(\.scalars), name)
            // Unknown and out-of-range options are errors.
            assertThrows(.invalidArgument, containing: "unknown option bogus") {
                try Factory.optimiser(kind: name, options: "lr=0.1 bogus=1")
            }
            assertThrows(.invalidArgument, containing: "lr=-1") { try Factory.optimiser(kind: name, options: "lr=-1") }
            assertThrows(.invalidArgument, containing: "not a finite number") { try Factory.optimiser(kind: name, options: "lr=inf") }
        }
    }

    func testRangeChecks() throws {
        let rejected: [(String, String, String)] = [
            ("sgd", "momentum=1", "momentum=1.0 is outside [0, 1)"),
            ("sgd", "momentum=-0.5", "outside"),
            ("sgd", "nesterov=1", "nesterov needs a momentum > 0"),
            ("nesterov", "momentum=0", "nesterov needs a momentum > 0"),
            ("momentum", "nesterov=1", "unknown option nesterov"),
            ("nesterov", "nesterov=0", "unknown option nesterov"),
            ("adam", "beta1=1", "beta1=1.0 is outside [0, 1)"),
            ("adam", "beta2=-0.1", "beta2"),
            ("adam", "eps=0", "eps"),
            ("adam", "eps=1e-20", "eps"),        // ε² would underflow
            ("adam", "eps_inside=maybe", "not a boolean"),
            ("rmsprop", "alpha=1.5", "alpha"),
            ("rmsprop", "eps=0", "eps"),
            ("rmsprop", "momentum=1", "momentum"),
            ("rmsprop", "centered=2", "not a boolean"),
            ("adagrad", "lr_decay=-1", "lr_decay"),
            ("adagrad", "initial_accumulator=-1", "initial_accumulator"),
            ("adagrad", "eps=0", "eps"),
            ("smorms3", "eps=-1", "eps"),
            ("smorms3", "beta1=0.9", "unknown option beta1"),
        ]
        for (kind, options, message) in rejected {
            assertThrows(.invalidArgument, containing: message) { try Factory.optimiser(kind: kind, options: options) }
        }
        // Accepted edges.
        for (kind, options) in [("sgd", "lr=0 momentum=0"), ("adam", "beta1=0 beta2=0 eps=1e-19 eps_inside=0"),
                                ("rmsprop", "alpha=1"), ("rmsprop", "alpha=0"), ("adagrad", "lr_decay=0")] {
            XCTAssertNoThrow(try Factory.optimiser(kind: kind, options: options), "\(kind) \(options)")
        }
        // Hyper-parameter tensors must be scalars.
        assertThrows(.shapeMismatch, containing: "scalar") { try SGD(learningRate: Tensor(shape: [1], scalars: [0.1])) }
        assertThrows(.shapeMismatch, containing: "scalar") { try Adam(learningRate: Tensor(0.1), beta1: Tensor.zeros([2])) }
    }

    // MARK: Meta-gradients in the hyper-parameters

    private struct MetaCase {
        let name: String
        /// The hyper-parameters' names and values at which the gradient is checked.
        let names: [String]
        let values: [Float]
        let loss: ([Tensor]) throws -> Tensor
        let reference: ([Double]) -> any Reference
    }

    private static let metaCases: [MetaCase] = [
        MetaCase(name: "sgd", names: ["lr"], values: [0.1],
                 loss: { h in metaLoss(try SGD(learningRate: h[0])).loss },
                 reference: { h in RefSGD(lr: h[0]) }),
        MetaCase(name: "momentum", names: ["lr", "momentum"], values: [0.1, 0.9],
                 loss: { h in metaLoss(try SGD(learningRate: h[0], momentum: h[1])).loss },
                 reference: { h in RefSGD(lr: h[0], momentum: h[1]) }),
        MetaCase(name: "nesterov", names: ["lr", "momentum"], values: [0.1, 0.9],
                 loss: { h in metaLoss(try SGD(learningRate: h[0], momentum: h[1], nesterov: true)).loss },
                 reference: { h in RefSGD(lr: h[0], momentum: h[1], nesterov: true) }),
        MetaCase(name: "adam", names: ["lr", "beta1", "beta2", "eps"], values: [0.05, 0.8, 0.9, 0.05],
                 loss: { h in metaLoss(try Adam(learningRate: h[0], beta1: h[1], beta2: h[2], epsilon: h[3])).loss },
                 reference: { h in RefAdam(lr: h[0], beta1: h[1], beta2: h[2], eps: h[3]) }),
        MetaCase(name: "adam textbook", names: ["lr", "beta1", "beta2", "eps"], values: [0.05, 0.8, 0.9, 0.05],
                 loss: { h in metaLoss(try Adam(learningRate: h[0], beta1: h[1], beta2: h[2], epsilon: h[3], epsilonInside: false)).loss },
                 reference: { h in RefAdam(lr: h[0], beta1: h[1], beta2: h[2], eps: h[3], inside: false) }),
        MetaCase(name: "rmsprop", names: ["lr", "alpha", "eps"], values: [0.02, 0.9, 0.05],
                 loss: { h in metaLoss(try RMSprop(learningRate: h[0], alpha: h[1], epsilon: h[2])).loss },
                 reference: { h in RefRMSprop(lr: h[0], alpha: h[1], eps: h[2]) }),
        MetaCase(name: "rmsprop centered momentum", names: ["lr", "alpha", "eps", "momentum"], values: [0.02, 0.9, 0.05, 0.5],
                 loss: { h in metaLoss(try RMSprop(learningRate: h[0], alpha: h[1], epsilon: h[2], momentum: h[3], centered: true)).loss },
                 reference: { h in RefRMSprop(lr: h[0], alpha: h[1], eps: h[2], momentum: h[3], centered: true) }),
        MetaCase(name: "adagrad", names: ["lr", "lr_decay", "initial_accumulator", "eps"], values: [0.1, 0.5, 0.2, 0.05],
                 loss: { h in metaLoss(try Adagrad(learningRate: h[0], learningRateDecay: h[1], initialAccumulator: h[2], epsilon: h[3])).loss },
                 reference: { h in RefAdagrad(lr: h[0], decay: h[1], initial: h[2], eps: h[3]) }),
        MetaCase(name: "smorms3", names: ["lr", "eps"], values: [0.05, 0.05],
                 loss: { h in metaLoss(try SMORMS3(learningRate: h[0], epsilon: h[1])).loss },
                 reference: { h in RefSMORMS3(lr: h[0], eps: h[1]) }),
    ]

    /// d L(θ₂)/d h for every hyper-parameter h of every optimiser, where θ₂ is two steps
    /// away from θ₀ and each step's gradient is itself differentiated (createGraph):
    /// autodiff against central differences of the same Float code (h ± 1e-3), and against
    /// central differences of the Float64 reference (h ± 1e-6), which are nearly exact.
    func testHyperParameterMetaGradientsMatchFiniteDifferences() throws {
        for c in Self.metaCases {
            let hypers = c.values.map { Tensor($0).tracked() }
            let loss = try c.loss(hypers)
            let analytic = gradients(of: loss, wrt: hypers).map(\.scalar)
            let base = c.values.map(Double.init)
            XCTAssertEqual(Double(loss.scalar), referenceMetaLoss(c.reference(base)), accuracy: 1e-5, "\(c.name): meta-loss")
            for k in c.values.indices {
                let label = "\(c.name): d loss / d \(c.names[k])"
                XCTAssertTrue(analytic[k].isFinite, label)
                // The Float code's own finite difference: round-off ≈ 6e-8·|L| / 1e-3.
                func floatLoss(_ delta: Float) throws -> Double {
                    var h = c.values.map { Tensor($0) }
                    h[k] = Tensor(c.values[k] + delta)
                    return Double(try c.loss(h).scalar)
                }
                let floatNumeric = Float((try floatLoss(1e-3) - floatLoss(-1e-3)) / 2e-3)
                assertClose([analytic[k]], [floatNumeric], atol: 2e-3, rtol: 1e-2, "\(label) vs float differences")
                func referenceLoss(_ delta: Double) -> Double {
                    var h = base
                    h[k] += delta
                    return referenceMetaLoss(c.reference(h))
                }
                let numeric = (referenceLoss(1e-6) - referenceLoss(-1e-6)) / 2e-6
                XCTAssertEqual(Double(analytic[k]), numeric, accuracy: 1e-4 + 1e-3 * abs(numeric), "\(label) vs float64 differences")
            }
        }
    }

    /// Adam at its defaults (ε = 1e-8) on a problem whose coordinate 2 only ever sees zero
    /// gradients, so v = 0 there: the meta-gradients in every hyper-parameter and in θ₀ are
    /// finite, for ε inside the root (smooth) and for the textbook form (zero-safe root), and
    /// the learning rate's matches finite differences.
    func testAdamMetaGradientIsFiniteWhereVIsZero() throws {
        for inside in [true, false] {
            let label = inside ? "eps inside" : "textbook eps"
            let hypers = [Tensor(0.05).tracked(), Tensor(0.9).tracked(), Tensor(0.999).tracked(), Tensor(1e-8).tracked()]
            let start = split(Problem.theta0).map { $0.tracked() }
            let adam = try Adam(learningRate: hypers[0], beta1: hypers[1], beta2: hypers[2], epsilon: hypers[3], epsilonInside: inside)
            let (loss, state) = metaLoss(adam, from: start)
            XCTAssertEqual(state.v[1].scalars[0], 0, "\(label): v stays exactly 0 on coordinate 2")
            XCTAssertEqual(state.m[1].scalars[0], 0, label)
            let g = gradients(of: loss, wrt: hypers + start)
            for (i, t) in g.enumerated() { XCTAssertTrue(t.isFinite, "\(label): gradient \(i) is \(t)") }
            XCTAssertEqual(g[5].scalars[0], 0, "\(label): θ₀ of the idle coordinate does not move the loss")
            let numeric = (referenceMetaLoss(RefAdam(lr: 0.05 + 1e-6, inside: inside))
                           - referenceMetaLoss(RefAdam(lr: 0.05 - 1e-6, inside: inside))) / 2e-6
            XCTAssertEqual(Double(g[0].scalar), numeric, accuracy: 1e-4 + 1e-3 * abs(numeric), "\(label): d loss / d lr")
            // d L / d θ₀ against the reference, coordinate by coordinate (MAML's path).
            for i in Problem.theta0.indices where i != 2 {
                var plus = Problem.theta0, minus = Problem.theta0
                plus[i] += 1e-6
                minus[i] -= 1e-6
                func run(_ theta: [Double]) -> Double {
                    var r: any Reference = RefAdam(lr: 0.05, inside: inside), th = theta
                    for _ in 0..<Problem.steps { r.step(&th, Problem.gradient(th)) }
                    return Problem.loss(th)
                }
                let numericTheta = (run(plus) - run(minus)) / 2e-6
                let analyticTheta = Double(flatten(Array(g[4...]))[i])
                XCTAssertEqual(analyticTheta, numericTheta, accuracy: 1e-3 + 1e-2 * abs(numericTheta), "\(label): d loss / d θ₀[\(i)]")
            }
        }
    }

    /// A tracked hyper-parameter's gradient flows through several steps and into a
    /// momentum of exactly 0 (whose buffer is then kept).
    func testGradientAtZeroMomentum() throws {
        let lr = Tensor(0.1).tracked(), mu = Tensor(0).tracked()
        let loss = metaLoss(try SGD(learningRate: lr, momentum: mu)).loss
        let g = gradients(of: loss, wrt: [lr, mu])
        let numeric = (referenceMetaLoss(RefSGD(lr: 0.1, momentum: 1e-6)) - referenceMetaLoss(RefSGD(lr: 0.1, momentum: -1e-6))) / 2e-6
        XCTAssertNotEqual(numeric, 0)
        XCTAssertEqual(Double(g[1].scalar), numeric, accuracy: 1e-4 + 1e-3 * abs(numeric))
    }
}
