/// A stack of LSTM layers run coordinate-wise: one small network shared by every
/// coordinate of a learner, all coordinates batched as the rows of one matrix, so a
/// trained network updates learners of any size.
///
/// Layer `l` maps input `x` `[P, n]` and state `(h, c)` (`[P, H]` each, side by side in one
/// `[P, 2H]` tensor) to
///
///     [i, f, a, o] = x·W + h·U + b        (W: [n, 4H], U: [H, 4H], b: [4H])
///     c' = σ(f) ⊙ c + σ(i) ⊙ tanh(a),     h' = σ(o) ⊙ tanh(c')
///
/// The gate biases start at `forgetBias` for f and `inputBias` for i (0 for the others).
/// Each layer is one fused op (``Tensor/lstmLayer(input:hidden:cell:w:u:bias:)``).
public struct CoordinateLSTM: Sendable {
    /// Hidden sizes, first layer first.
    public let layers: [Int]
    /// Features per coordinate entering the first layer.
    public let inputSize: Int
    /// Initial bias of the forget and input gates.
    public let forgetBias: Float, inputBias: Float
    /// Weights and biases are drawn from U(±scale/√H) per layer (PyTorch's LSTM default
    /// has scale 1); `initScales` overrides the scale per layer.
    public let initScales: [Float]

    public init(inputSize: Int, layers: [Int], forgetBias: Float = 1, inputBias: Float = 0, initScales: [Float]? = nil) throws {
        guard inputSize >= 1, !layers.isEmpty, layers.allSatisfy({ $0 >= 1 && $0 <= 4096 }) else {
            throw L2LError.invalid("lstm: layers must be 1...4096 units each and at least one, got \(layers)")
        }
        self.inputSize = inputSize
        self.layers = layers
        self.forgetBias = forgetBias
        self.inputBias = inputBias
        self.initScales = initScales ?? layers.map { _ in 1 }
        guard self.initScales.count == layers.count else {
            throw L2LError.invalid("lstm: \(self.initScales.count) init scales for \(layers.count) layers")
        }
    }

    /// Three tensors per layer: `lstm{l}.w` `[n, 4H]`, `lstm{l}.u` `[H, 4H]`, `lstm{l}.b` `[4H]`.
    public var specs: [MetaParameterSpec] {
        var n = inputSize
        return layers.enumerated().flatMap { l, h -> [MetaParameterSpec] in
            defer { n = h }
            return [MetaParameterSpec(name: "lstm\(l).w", shape: [n, 4 * h]),
                    MetaParameterSpec(name: "lstm\(l).u", shape: [h, 4 * h]),
                    MetaParameterSpec(name: "lstm\(l).b", shape: [4 * h])]
        }
    }

    public func initialParameters(rng: inout RNG) -> [Tensor] {
        specs.enumerated().map { k, spec in
            let l = k / 3, h = layers[l]
            let a = initScales[l] / Float(h).squareRoot()
            var t = Tensor.uniform(spec.shape, low: -a, high: a, rng: &rng)
            if k % 3 == 2 {   // gate order i, f, a, o
                t.withUnsafeMutableBufferPointer { b in
                    for j in 0..<h { b[j] += inputBias; b[h + j] += forgetBias }
                }
            }
            return t
        }
    }

    /// The state: one tensor per layer, `[P, 2H]`, h in columns `0..<H` and c in `H..<2H`.
    public func initialState(coordinates p: Int) -> [Tensor] {
        layers.map { h in Tensor.zeros([p, 2 * h]) }
    }

    /// Runs every layer once on `x` `[P, inputSize]`; returns the last layer's `h` `[P, H]`
    /// and the new state. Each layer reads the previous one's whole `[P, 2H]` state as its
    /// input (its h in front), so nothing is copied between layers.
    public func callAsFunction(_ x: Tensor, parameters: ArraySlice<Tensor>, state: [Tensor]) -> (output: Tensor, state: [Tensor]) {
        let next = step(x, parameters: parameters, state: state)
        return (next.last!.slice(axis: 1, 0..<layers.last!), next)
    }

    /// Runs every layer once on `x` `[P, inputSize]`; returns the new state only (one
    /// `[P, 2H]` tensor per layer), for callers that read the last layer's h in place from
    /// its columns `0..<H` (``Tensor/linearHead(_:w:bias:)``) instead of copying it out.
    public func step(_ x: Tensor, parameters: ArraySlice<Tensor>, state: [Tensor]) -> [Tensor] {
        var input = x
        var next = [Tensor]()
        var p = parameters.startIndex
        for l in layers.indices {
            input = Tensor.lstmLayer(input: input, state: state[l], w: parameters[p], u: parameters[p + 1], bias: parameters[p + 2])
            next.append(input)
            p += 3
        }
        return next
    }
}
