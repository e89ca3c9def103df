/// A stack of LSTM layers run coordinate-wise: one small network shared by every
/// coordinate of a learner, all coordinates batched as the rows of one matrix, so a
/// trained network updates learners of any size.
///
/// Layer `l` maps input `x` `[P, n]` and state `(h, c)` `[P, H]` to
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

    /// Zero `(h, c)` for every layer, `P` rows each: `[h0, c0, h1, c1, …]`.
    public func initialState(coordinates p: Int) -> [Tensor] {
        layers.flatMap { h in [Tensor.zeros([p, h]), Tensor.zeros([p, h])] }
    }

    /// Runs every layer once on `x` `[P, inputSize]`; returns the last layer's `h` and the
    /// new state.
    public func callAsFunction(_ x: Tensor, parameters: ArraySlice<Tensor>, state: [Tensor]) -> (output: Tensor, state: [Tensor]) {
        var input = x
        var next = [Tensor]()
        var p = parameters.startIndex
        for (l, h) in layers.enumerated() {
            let (w, u, b) = (parameters[p], parameters[p + 1], parameters[p + 2])
            p += 3
            let hc = Tensor.lstmLayer(input: input, hidden: state[2 * l], cell: state[2 * l + 1], w: w, u: u, bias: b)   // [P, 2H]
            let hNew = hc.slice(axis: 1, 0..<h)
            next += [hNew, hc.slice(axis: 1, h..<(2 * h))]
            input = hNew
        }
        return (input, next)
    }
}
