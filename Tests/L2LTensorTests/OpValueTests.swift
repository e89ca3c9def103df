import Glibc
import L2LTensor
import L2LTestSupport
import XCTest

/// Forward values of the ops against plain Double references written in the test.
final class OpValueTests: XCTestCase {
    let x = randomTensor([3, 4], seed: 1)

    func testUnaryValues() {
        let pos = randomTensor([3, 4], low: 0.3, high: 2, seed: 2)
        func check(_ t: Tensor, _ input: Tensor, _ f: (Double) -> Double, _ name: String) {
            assertClose(t.scalars, input.scalars.map { Float(f(Double($0))) }, atol: 1e-6, rtol: 1e-5, name)
        }
        check(x.exp(), x, Glibc.exp, "exp")
        check(x.sin(), x, Glibc.sin, "sin")
        check(x.cos(), x, Glibc.cos, "cos")
        check(pos.log(), pos, Glibc.log, "log")
        check(pos.sqrt(), pos, { $0.squareRoot() }, "sqrt")
        check(x.abs(), x, { Swift.abs($0) }, "abs")
        check(x.relu(), x, { Swift.max($0, 0) }, "relu")
        check(x.sigmoid(), x, { 1 / (1 + Glibc.exp(-$0)) }, "sigmoid")
        check(x.tanh(), x, Glibc.tanh, "tanh")
        check(x.softplus(), x, { Glibc.log(1 + Glibc.exp($0)) }, "softplus")
        check(pos.pow(1.7), pos, { Glibc.pow($0, 1.7) }, "pow")
        check(x.clamped(-0.3, 0.4), x, { Swift.min(Swift.max($0, -0.3), 0.4) }, "clamp")
    }

    /// exp, tanh, sigmoid and softplus run in CKernels (`l2lk_map`, one build per instruction
    /// set): the same bits on each and on any thread count, close to libm over a wide range, and the
    /// edge cases right (NaN stays NaN, exp overflows to +∞ and underflows to 0, tanh and σ
    /// saturate, tanh is odd).
    func testExpTanhAndSigmoidAreTheSameOnEveryInstructionSetAndCloseToLibm() {
        var rng = RNG(seed: 21)
        var values: [Float] = [0, -0.0, 0.625, -0.625, 0.624_999_9, 1e-30, -1e-30, 88.7, 88.8, -87.3, -87.4, 1000, -1000]
        for std: Float in [1e-3, 0.3, 3, 30] { values += Tensor.normal([100_003], std: std, rng: &rng).scalars }
        let x = Tensor(shape: [values.count], scalars: values)
        let (savedISA, savedThreads) = (Kernels.instructionSet, Kernels.threads)
        defer { Kernels.instructionSet = savedISA; Kernels.threads = savedThreads }
        var results = [[[UInt32]]]()
        for isa in Kernels.instructionSets {
            for threads in [1, 2] {
                Kernels.instructionSet = isa
                Kernels.threads = threads
                results.append([x.exp(), x.tanh(), x.sigmoid(), x.softplus()].map { $0.scalars.map(\.bitPattern) })
            }
        }
        for r in results.dropFirst() { XCTAssertEqual(r, results[0]) }
        let (e, t, s) = (x.exp().scalars, x.tanh().scalars, x.sigmoid().scalars)
        var worst = (exp: 0.0, tanh: 0.0, sigmoid: 0.0)
        for (i, v) in values.enumerated() {
            let d = Double(v)
            if Swift.abs(d) < 87 { worst.exp = Swift.max(worst.exp, Swift.abs(Double(e[i]) / Glibc.exp(d) - 1)) }
            worst.tanh = Swift.max(worst.tanh, Swift.abs(Double(t[i]) - Glibc.tanh(d)) / Swift.max(Swift.abs(Glibc.tanh(d)), 1e-30))
            worst.sigmoid = Swift.max(worst.sigmoid, Swift.abs(Double(s[i]) - 1 / (1 + Glibc.exp(-d))))
            XCTAssertEqual(t[i], -Tensor(-v).tanh().scalar)
        }
        XCTAssertLessThan(worst.exp, 4e-7)
        XCTAssertLessThan(worst.tanh, 4e-7)
        XCTAssertLessThan(worst.sigmoid, 2e-7)
        let special = Tensor(shape: [5], scalars: [.nan, .infinity, -.infinity, 89, -100])
        XCTAssertTrue(special.exp().scalars[0].isNaN && special.tanh().scalars[0].isNaN && special.sigmoid().scalars[0].isNaN)
        XCTAssertEqual(Array(special.exp().scalars.dropFirst()), [.infinity, 0, .infinity, 0])
        XCTAssertEqual(Array(special.tanh().scalars.dropFirst()), [1, -1, 1, -1])
        XCTAssertEqual(Array(special.sigmoid().scalars.dropFirst()), [1, 0, 1, 0])
    }

    /// Whether libm is glibc 2.36, whose FMA code the softplus and logf kernels repeat bit for bit.
    static let libcIsGlibc236: Bool = {
        var version = [CChar](repeating: 0, count: 64)
        _ = confstr(Int32(_CS_GNU_LIBC_VERSION), &version, version.count)
        return String(cString: version) == "glibc 2.36"
    }()

    /// Runs `body` with l2l's kernels on each instruction set the CPU has, then restores the set.
    func forEachInstructionSet(_ body: (String) -> Void) {
        let saved = Kernels.instructionSet
        defer { Kernels.instructionSet = saved }
        for isa in Kernels.instructionSets {
            Kernels.instructionSet = isa
            body(isa)
        }
    }

    /// softplus's kernel repeats glibc 2.36's expf and log1pf operation for operation: on that
    /// glibc it gives libm's bits on every instruction set, including the elements it hands
    /// back to libm (|x| ≥ 88, NaN, ±∞, and 1 + e^(−|x|) rounding to 2); on any libm it stays
    /// within 2 ulps of log1p(e^x) in double precision.
    func testSoftplusHasLibmsBitsAndIsAccurate() {
        var rng = RNG(seed: 22)
        var values: [Float] = [0, -0.0, 1e-30, -1e-30, 1e-8, -1e-8, 17.3, -17.3, 20, -20, 87.9, -87.9, 88, -88, 88.8, -104,
                               200, -200, .nan, .infinity, -.infinity, .leastNonzeroMagnitude, .greatestFiniteMagnitude]
        for std: Float in [1e-4, 0.3, 3, 30] { values += Tensor.normal([50_003], std: std, rng: &rng).scalars }
        let x = Tensor(shape: [values.count], scalars: values)
        let libm = values.map { v in Swift.max(v, 0) + log1pf(expf(-Swift.abs(v))) }
        let glibc236 = Self.libcIsGlibc236
        forEachInstructionSet { isa in
            let y = x.softplus().scalars
            var worstUlps: Float = 0
            for (i, v) in values.enumerated() {
                if glibc236 {
                    XCTAssertTrue(y[i].bitPattern == libm[i].bitPattern || (y[i].isNaN && libm[i].isNaN),
                                  "softplus(\(v)) = \(y[i]) on \(isa), libm \(libm[i])")
                }
                guard v.isFinite else { continue }
                let exact = Swift.max(Double(v), 0) + Glibc.log1p(Glibc.exp(-Swift.abs(Double(v))))
                worstUlps = Swift.max(worstUlps, Float(Swift.abs(Double(y[i]) - exact)) / Float(exact).ulp)
            }
            XCTAssertLessThanOrEqual(worstUlps, 2, "\(isa)")
            XCTAssertTrue(y[values.firstIndex(where: \.isNaN)!].isNaN)
        }
    }

    /// The gradient preprocessing's logf repeats glibc 2.36's: on that glibc every instruction
    /// set gives the features libm's logf gives (NaN and ±∞ handed to libm itself); on any libm
    /// log|x|/p is within 2 ulps of the double-precision value. Both branches, the threshold
    /// and the sign feature checked too.
    func testLogMagnitudeAndSignHasLibmsBitsAndIsAccurate() {
        var rng = RNG(seed: 23)
        let p: Float = 10, threshold = expf(-10)
        var values: [Float] = [0, -0.0, 1, -1, threshold, -threshold, threshold.nextDown, 1e-30, .leastNonzeroMagnitude,
                               .greatestFiniteMagnitude, -.greatestFiniteMagnitude, 0x1p-126]
        for std: Float in [1e-6, 1e-3, 1, 1e4] { values += Tensor.normal([40_001], std: std, rng: &rng).scalars }
        let column = Tensor(shape: [values.count, 1], scalars: values)
        let glibc236 = Self.libcIsGlibc236
        forEachInstructionSet { isa in
            let f = column.logMagnitudeAndSign(p: p).scalars
            for (i, v) in values.enumerated() {
                let small = Swift.abs(v) < threshold
                let sign: Float = small ? expf(p) * v : (v > 0 ? 1 : (v < 0 ? -1 : 0))
                XCTAssertEqual(f[2 * i + 1].bitPattern, sign.bitPattern, "sign feature of \(v) on \(isa)")
                if small { XCTAssertEqual(f[2 * i], -1); continue }
                let libm = logf(Swift.abs(v)) / p
                if glibc236 { XCTAssertEqual(f[2 * i].bitPattern, libm.bitPattern, "log feature of \(v) on \(isa)") }
                let exact = Glibc.log(Double(Swift.abs(v))) / Double(p)
                XCTAssertLessThanOrEqual(Swift.abs(Double(f[2 * i]) - exact), 2 * Double(Float(exact).ulp), "log feature of \(v) on \(isa)")
            }
            let special = Tensor(shape: [3, 1], scalars: [.nan, .infinity, -.infinity]).logMagnitudeAndSign(p: p).scalars
            XCTAssertTrue(special[0].isNaN)
            XCTAssertEqual(Array(special[2...]), [.infinity, 1, .infinity, -1], "on \(isa)")
        }
    }

    /// Tensors above the parallel threshold take the multi-core path of every kernel shape.
    func testLargeTensorsTakeTheParallelPathCorrectly() {
        let n = 300_001
        let a = randomTensor([n], seed: 11), b = randomTensor([n], seed: 12)
        let (sa, sb) = (a.scalars, b.scalars)
        XCTAssertEqual(a.relu().scalars, sa.map { max($0, 0) })
        XCTAssertEqual((a + b).scalars, zip(sa, sb).map { $0 + $1 })
        XCTAssertEqual((a * 3).scalars, sa.map { $0 * 3 })
        XCTAssertEqual((a - Tensor(2)).scalars, sa.map { $0 - 2 })
        XCTAssertEqual((Tensor(2) / (b.abs() + 1)).scalars, sb.map { 2 / (Swift.abs($0) + 1) })
        assertClose(a.exp().scalars, sa.map { expf($0) }, atol: 0, rtol: 1e-6)
        let grid = randomTensor([600, 500], seed: 13), row = randomTensor([500], seed: 14)
        let sum = (grid + row).scalars, (g, r) = (grid.scalars, row.scalars)
        for i in [0, 499, 500, 123_456, 299_999] { XCTAssertEqual(sum[i], g[i] + r[i % 500]) }
    }

    func testExtremeInputsStayFinite() {
        let big = Tensor(shape: [4], scalars: [-200, -90, 90, 200])
        XCTAssertTrue(big.sigmoid().isFinite)
        XCTAssertEqual(big.softplus().scalars[3], 200)
        XCTAssertEqual(big.softplus().scalars[0], 0)
        XCTAssertTrue(Tensor.sigmoidBinaryCrossEntropy(logits: big, targets: Tensor(shape: [4], scalars: [1, 0, 1, 0])).isFinite)
        let logits = Tensor(shape: [1, 3], scalars: [1000, 0, -1000])
        XCTAssertTrue(logits.softmax().isFinite)
        XCTAssertEqual(Tensor.softmaxCrossEntropy(logits: logits, labels: [0]).scalar, 0, accuracy: 1e-6)
        XCTAssertEqual(Tensor.softmaxCrossEntropy(logits: logits, labels: [1]).scalar, 1000, accuracy: 1e-3)
    }

    func testBroadcastValues() {
        let row = Tensor(shape: [4], scalars: [1, 2, 3, 4])
        let col = Tensor(shape: [3, 1], scalars: [10, 20, 30])
        let grid = Tensor(shape: [3, 4], scalars: (0..<12).map(Float.init))
        XCTAssertEqual((grid + row).scalars, (0..<12).map { Float($0 + $0 % 4 + 1) })
        let expectedProduct: [Float] = (0..<12).map { (i: Int) -> Float in Float(i * 10 * (i / 4 + 1)) }
        XCTAssertEqual((grid * col).scalars, expectedProduct)
        XCTAssertEqual((row - col).shape, [3, 4])
        let expectedDifference: [Float] = (0..<12).map { (i: Int) -> Float in Float(i % 4 + 1) - Float(10 * (i / 4 + 1)) }
        XCTAssertEqual((row - col).scalars, expectedDifference)
        XCTAssertEqual((grid / Tensor(2)).scalars, (0..<12).map { Float($0) / 2 })
        // Rank-3 against a middle-axis broadcast exercises the general strided loop.
        let cube = Tensor(shape: [2, 3, 2], scalars: (0..<12).map(Float.init))
        let mid = Tensor(shape: [2, 1, 2], scalars: [100, 200, 300, 400])
        let expected: [Float] = (0..<12).map { i in Float(i) + [100, 200, 300, 400][(i / 6) * 2 + i % 2] }
        XCTAssertEqual((cube + mid).scalars, expected)
    }

    func testReductionValues() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.sum().scalar, 21)
        XCTAssertEqual(t.mean().scalar, 3.5)
        XCTAssertEqual(t.sum(axis: 0).scalars, [5, 7, 9])
        XCTAssertEqual(t.sum(axis: 1).scalars, [6, 15])
        XCTAssertEqual(t.sum(axis: 1, keepDims: true).shape, [2, 1])
        XCTAssertEqual(t.mean(axis: 0).scalars, [2.5, 3.5, 4.5])
        XCTAssertEqual(t.sum(toShape: [1, 3]).scalars, [5, 7, 9])
        XCTAssertEqual(t.argmaxRows(), [2, 2])
    }

    func testShapeOpValues() {
        let t = Tensor(shape: [2, 3], scalars: [1, 2, 3, 4, 5, 6])
        XCTAssertEqual(t.transposed().scalars, [1, 4, 2, 5, 3, 6])
        XCTAssertEqual(t.slice(axis: 1, 1..<3).scalars, [2, 3, 5, 6])
        XCTAssertEqual(t.padded(axis: 0, before: 1, after: 0).scalars, [0, 0, 0, 1, 2, 3, 4, 5, 6])
        XCTAssertEqual(Tensor.concatenate([t, t.slice(axis: 1, 0..<1)], axis: 1).scalars, [1, 2, 3, 1, 4, 5, 6, 4])
        XCTAssertEqual(t.reshaped([3, -1]).shape, [3, 2])
        XCTAssertEqual(t.gather(rows: [2, 0]).scalars, [3, 4])
        XCTAssertEqual(Tensor(shape: [2], scalars: [7, 8]).scatter(rows: [1, 2], columns: 3).scalars, [0, 7, 0, 0, 0, 8])
        let mask = Tensor(shape: [2, 3], scalars: [1, 0, 1, 0, 1, 0])
        XCTAssertEqual(Tensor.select(mask, t, Tensor(-1)).scalars, [1, -1, 3, -1, 5, -1])
        // A large transpose crosses the 32×32 blocking.
        let big = randomTensor([70, 45], seed: 3)
        let tb = big.transposed()
        for (i, j) in [(0, 0), (69, 44), (33, 31), (40, 2)] {
            XCTAssertEqual(tb.scalars[j * 70 + i], big.scalars[i * 45 + j])
        }
    }

    func testNarrowAndWideRowCopiesAgainstIndexing() {
        // slice, padded and concatenate along the last axis copy rows of 1…17 floats (below
        // 16 by l2lk_copy_narrow_rows, whose widths 1, 2, 3, 4 and 8 have their own loops;
        // by memmove above).
        let p = 37
        for width in [1, 2, 3, 4, 5, 8, 17] {
            let a = randomTensor([p, width], seed: UInt64(width)), b = randomTensor([p, 2 * width], seed: 9)
            let c = Tensor.concatenate([a, b, a], axis: 1)
            XCTAssertEqual(c.shape, [p, 4 * width])
            for r in [0, 18, p - 1] {
                let row = Array(c.scalars[(r * 4 * width)..<((r + 1) * 4 * width)])
                XCTAssertEqual(row, Array(a.scalars[(r * width)..<((r + 1) * width)]) + Array(b.scalars[(r * 2 * width)..<((r + 1) * 2 * width)])
                                   + Array(a.scalars[(r * width)..<((r + 1) * width)]))
            }
            XCTAssertEqual(c.slice(axis: 1, width..<(3 * width)).scalars, b.scalars)
            let padded = a.padded(axis: 1, before: 2, after: width)
            XCTAssertEqual(padded.shape, [p, 2 * width + 2])
            for r in [0, p - 1] {
                let row = Array(padded.scalars[(r * (2 * width + 2))..<((r + 1) * (2 * width + 2))])
                XCTAssertEqual(row, [0, 0] + Array(a.scalars[(r * width)..<((r + 1) * width)]) + [Float](repeating: 0, count: width))
            }
        }
    }

    /// k columns of width 1 side by side (l2lk_interleave: k = 2, 3, 4 have their own loops,
    /// 5 the general one), also along the last axis of a rank-3 tensor, against indexing.
    func testColumnsSideBySideAgainstIndexing() {
        for k in 2...5 {
            for shape in [[37, 1], [3, 5, 1]] {
                let columns = (0..<k).map { randomTensor(shape, seed: UInt64(10 * k + $0)) }
                let c = Tensor.concatenate(columns, axis: -1)
                XCTAssertEqual(c.shape, Array(shape.dropLast()) + [k])
                let rows = shape.dropLast().reduce(1, *)
                for r in 0..<rows {
                    XCTAssertEqual(Array(c.scalars[(r * k)..<((r + 1) * k)]), columns.map { $0.scalars[r] }, "k = \(k), row \(r)")
                }
            }
        }
    }

    func testMatmulAgainstNaiveProduct() {
        for (m, k, n) in [(3, 5, 2), (1, 7, 1), (17, 33, 9)] {
            let a = randomTensor([m, k], seed: 4), b = randomTensor([k, n], seed: 5)
            var expected = [Float](repeating: 0, count: m * n)
            for i in 0..<m { for j in 0..<n {
                var s: Double = 0
                for l in 0..<k { s += Double(a.scalars[i * k + l]) * Double(b.scalars[l * n + j]) }
                expected[i * n + j] = Float(s)
            } }
            assertClose(matmul(a, b).scalars, expected, atol: 1e-5, rtol: 1e-5, "matmul \(m)x\(k)x\(n)")
            assertClose(matmul(a.transposed(), b, transposeA: true).scalars, expected, atol: 1e-5, rtol: 1e-5, "matmul Aᵀ")
            assertClose(matmul(a, b.transposed(), transposeB: true).scalars, expected, atol: 1e-5, rtol: 1e-5, "matmul Bᵀ")
        }
        XCTAssertEqual(matmul(Tensor.zeros([2, 0]), Tensor.zeros([0, 3])).scalars, [Float](repeating: 0, count: 6))
    }

    /// Inner dimensions up to 4 skip sgemm (a coordinate-wise network's output head, [P, k]·[k, 1]):
    /// each element is the plain chain (0 + a₀b₀) + a₁b₁ + … in Float, bit for bit, for rows
    /// enough to fill whole vectors and a tail.
    func testSmallInnerProductsAreThePlainSum() {
        for (k, n) in [(1, 1), (2, 1), (3, 1), (4, 1), (3, 5), (4, 2)] {
            let m = 37
            let a = randomTensor([m, k], seed: UInt64(k)), b = randomTensor([k, n], seed: 7)
            let c = matmul(a, b).scalars
            for i in 0..<m { for j in 0..<n {
                var sum: Float = 0
                for l in 0..<k { sum += a.scalars[i * k + l] * b.scalars[l * n + j] }
                XCTAssertEqual(c[i * n + j].bitPattern, sum.bitPattern, "[\(m), \(k)]·[\(k), \(n)] at (\(i), \(j))")
            } }
        }
    }

    func testSoftmaxAndLossValues() {
        let logits = Tensor(shape: [2, 3], scalars: [1, 2, 3, -1, 0, 4])
        let labels: [Int32] = [2, 0]
        var ce: Double = 0
        var soft = [Float]()
        for r in 0..<2 {
            let row = logits.scalars[(r * 3)..<(r * 3 + 3)].map(Double.init)
            let z = row.map(Glibc.exp).reduce(0, +)
            soft += row.map { Float(Glibc.exp($0) / z) }
            ce += Glibc.log(z) - row[Int(labels[r])]
        }
        assertClose(logits.softmax().scalars, soft, atol: 1e-6, rtol: 1e-5, "softmax")
        assertClose(logits.logSoftmax().scalars, soft.map(logf), atol: 1e-5, rtol: 1e-5, "logSoftmax")
        XCTAssertEqual(Tensor.softmaxCrossEntropy(logits: logits, labels: labels).scalar, Float(ce / 2), accuracy: 1e-5)

        let z = Tensor(shape: [3], scalars: [-2, 0.5, 3]), t = Tensor(shape: [3], scalars: [0, 1, 0.3])
        let bce = zip(z.scalars, t.scalars).map { zi, ti -> Double in
            let p = 1 / (1 + Glibc.exp(-Double(zi)))
            return -(Double(ti) * Glibc.log(p) + (1 - Double(ti)) * Glibc.log(1 - p))
        }.reduce(0, +) / 3
        XCTAssertEqual(Tensor.sigmoidBinaryCrossEntropy(logits: z, targets: t).scalar, Float(bce), accuracy: 1e-5)
        XCTAssertEqual(Tensor.meanSquaredError(z, t).scalar, (4 + 0.25 + 7.29) / 3, accuracy: 1e-5)
    }
}
