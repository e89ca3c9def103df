import Glibc

/// A seeded, counter-based random number generator: Philox-4x32-10 (Salmon et al., 2011).
///
/// Output block `i` is a pure function of `(seed, i)`, so the same seed gives the same
/// numbers on every machine and from every front door, and the whole state is three
/// integers (see ``state`` for checkpoints).
public struct RNG {
    private let key: (UInt32, UInt32)
    /// Index of the next 128-bit block.
    private var counter: UInt64
    /// Position (0–4) within the current block; 4 means "generate a new block".
    private var lane: Int
    private var block: (UInt32, UInt32, UInt32, UInt32) = (0, 0, 0, 0)

    /// A generator whose stream is fixed by `seed`.
    public init(seed: UInt64) {
        key = (UInt32(truncatingIfNeeded: seed), UInt32(truncatingIfNeeded: seed >> 32))
        counter = 0
        lane = 4
    }

    /// Everything needed to resume the stream: `(seed, block counter, lane)`.
    public var state: (seed: UInt64, counter: UInt64, lane: Int) {
        (UInt64(key.0) | UInt64(key.1) << 32, counter, lane)
    }

    /// Resumes a stream saved by ``state``.
    public init(state: (seed: UInt64, counter: UInt64, lane: Int)) {
        precondition((0...4).contains(state.lane) && (state.lane == 4 || state.counter > 0),
                     "RNG(state:): lane \(state.lane) with counter \(state.counter) is not a saved state")
        self.init(seed: state.seed)
        counter = state.counter
        lane = state.lane
        if lane < 4 { block = RNG.philox(counter: counter &- 1, key: key) }
    }

    /// The Philox-4x32-10 bijection of a 128-bit counter `(lo, hi)` under `key`.
    public static func philox(counter: UInt64, high: UInt64 = 0, key: (UInt32, UInt32))
        -> (UInt32, UInt32, UInt32, UInt32)
    {
        var c = (UInt32(truncatingIfNeeded: counter), UInt32(truncatingIfNeeded: counter >> 32),
                 UInt32(truncatingIfNeeded: high), UInt32(truncatingIfNeeded: high >> 32))
        var k = key
        for _ in 0..<10 {
            let p0 = UInt64(0xD251_1F53) * UInt64(c.0)
            let p1 = UInt64(0xCD9E_8D57) * UInt64(c.2)
            c = (UInt32(truncatingIfNeeded: p1 >> 32) ^ c.1 ^ k.0, UInt32(truncatingIfNeeded: p1),
                 UInt32(truncatingIfNeeded: p0 >> 32) ^ c.3 ^ k.1, UInt32(truncatingIfNeeded: p0))
            k = (k.0 &+ 0x9E37_79B9, k.1 &+ 0xBB67_AE85)
        }
        return c
    }

    /// The next 32 random bits.
    public mutating func nextUInt32() -> UInt32 {
        if lane == 4 {
            block = RNG.philox(counter: counter, key: key)
            counter &+= 1
            lane = 0
        }
        defer { lane += 1 }
        switch lane {
        case 0: return block.0
        case 1: return block.1
        case 2: return block.2
        default: return block.3
        }
    }

    /// Uniform in [0, 1) with 24 random bits (every representable step of a Float in [½, 1)).
    public mutating func nextUniform() -> Float {
        Float(nextUInt32() >> 8) * 0x1p-24
    }

    /// Uniform integer in `0..<bound` without modulo bias (Lemire's method).
    public mutating func nextInt(below bound: Int) -> Int {
        precondition(bound > 0 && bound <= Int(UInt32.max), "RNG.nextInt(below:): bound \(bound) out of range")
        let b = UInt64(bound)
        var m = UInt64(nextUInt32()) * b
        if UInt32(truncatingIfNeeded: m) < UInt32(bound) {
            let threshold = UInt32((UInt64(1) << 32) % b)   // 2³² mod bound
            while UInt32(truncatingIfNeeded: m) < threshold { m = UInt64(nextUInt32()) * b }
        }
        return Int(m >> 32)
    }

    /// Fills `buffer` with uniform values in [`low`, `high`).
    public mutating func fillUniform(_ buffer: UnsafeMutableBufferPointer<Float>, low: Float, high: Float) {
        let span = high - low
        for i in buffer.indices { buffer[i] = low + span * nextUniform() }
    }

    /// Fills `buffer` with normal values (Box–Muller on pairs of uniforms).
    public mutating func fillNormal(_ buffer: UnsafeMutableBufferPointer<Float>, mean: Float, std: Float) {
        var i = buffer.startIndex
        while i < buffer.endIndex {
            // u1 in (0, 1] so the logarithm is finite.
            let u1 = (Float(nextUInt32() >> 8) + 1) * 0x1p-24
            let u2 = nextUniform()
            let r = (-2 * logf(u1)).squareRoot(), a = 2 * Float.pi * u2
            buffer[i] = mean + std * r * cosf(a)
            if i + 1 < buffer.endIndex { buffer[i + 1] = mean + std * r * sinf(a) }
            i += 2
        }
    }

    /// A uniformly random permutation of `0..<n` (Fisher–Yates).
    public mutating func permutation(_ n: Int) -> [Int] {
        var p = Array(0..<n)
        if n < 2 { return p }
        for i in stride(from: n - 1, to: 0, by: -1) { p.swapAt(i, nextInt(below: i + 1)) }
        return p
    }
}

// MARK: Random tensors and initialisers

extension Tensor {
    /// Uniform values in [`low`, `high`).
    public static func uniform(_ shape: [Int], low: Float = 0, high: Float = 1, rng: inout RNG) -> Tensor {
        Tensor(shape: shape) { p, n in rng.fillUniform(UnsafeMutableBufferPointer(start: p, count: n), low: low, high: high) }
    }

    /// Normal values with mean `mean` and standard deviation `std`.
    public static func normal(_ shape: [Int], mean: Float = 0, std: Float = 1, rng: inout RNG) -> Tensor {
        Tensor(shape: shape) { p, n in rng.fillNormal(UnsafeMutableBufferPointer(start: p, count: n), mean: mean, std: std) }
    }

    /// Glorot/Xavier uniform: U(±√(6 / (fanIn + fanOut))).
    public static func glorotUniform(_ shape: [Int], fanIn: Int, fanOut: Int, rng: inout RNG) -> Tensor {
        let a = (6 / Float(fanIn + fanOut)).squareRoot()
        return uniform(shape, low: -a, high: a, rng: &rng)
    }

    /// He/Kaiming normal: N(0, 2 / fanIn), for ReLU layers.
    public static func heNormal(_ shape: [Int], fanIn: Int, rng: inout RNG) -> Tensor {
        normal(shape, std: (2 / Float(fanIn)).squareRoot(), rng: &rng)
    }

    /// U(±1/√fanIn): PyTorch's default for linear layers, which the papers' code uses for
    /// both weights and biases.
    public static func fanInUniform(_ shape: [Int], fanIn: Int, rng: inout RNG) -> Tensor {
        let a = 1 / Float(fanIn).squareRoot()
        return uniform(shape, low: -a, high: a, rng: &rng)
    }
}
