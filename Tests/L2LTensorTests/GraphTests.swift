import Glibc
import L2LTensor
import L2LTestSupport
import XCTest

/// The autodiff machinery itself: accumulation, stop-gradient, no-graph scope, deep graphs.
final class GraphTests: XCTestCase {
    func testGradientsAccumulateOverEveryUse() {
        let x = Tensor(shape: [3], scalars: [1, 2, 3]).tracked()
        let y = (x * x + x * 3).sum()   // dy/dx = 2x + 3
        XCTAssertEqual(gradients(of: y, wrt: [x])[0].scalars, [5, 7, 9])
    }

    func testDetachedStopsTheGradient() {
        let x = Tensor(shape: [2], scalars: [1, 2]).tracked()
        let y = (x * x.detached()).sum()   // only the first factor carries gradient
        XCTAssertEqual(gradients(of: y, wrt: [x])[0].scalars, [1, 2])
        XCTAssertFalse(x.detached().isTracked)
    }

    func testWithoutGraphRecordsNothing() {
        let x = Tensor(shape: [2], scalars: [1, 2]).tracked()
        let y = withoutGraph { (x * x).sum() }
        XCTAssertFalse(y.isTracked)
        XCTAssertTrue(isRecordingGraph)
        withoutGraph { withoutGraph {}; XCTAssertFalse(isRecordingGraph) }
        XCTAssertEqual(gradients(of: y, wrt: [x])[0].scalars, [0, 0])
    }

    func testUnrelatedAndInteriorTargets() {
        let x = Tensor(shape: [2], scalars: [1, 2]).tracked()
        let unrelated = Tensor.ones([3]).tracked()
        let h = x * 2
        let y = h.pow(2).sum()
        let g = gradients(of: y, wrt: [unrelated, h, x])
        XCTAssertEqual(g[0].scalars, [0, 0, 0])
        XCTAssertEqual(g[1].scalars, [4, 8])   // 2h
        XCTAssertEqual(g[2].scalars, [8, 16])  // 4h
    }

    func testCreateGraphControlsWhetherGradientsAreTracked() {
        let x = Tensor(shape: [2], scalars: [1, 2]).tracked()
        let y = x.pow(3).sum()
        XCTAssertFalse(gradients(of: y, wrt: [x])[0].isTracked)
        XCTAssertTrue(gradients(of: y, wrt: [x], createGraph: true)[0].isTracked)
    }

    func testDeepGraphDoesNotOverflowTheStack() {
        // 50 000 chained ops: a recursive backward would exhaust the stack.
        let x = Tensor(1).tracked()
        var y = x
        for _ in 0..<50_000 { y = y * 1.0001 }
        let g = gradients(of: y, wrt: [x])[0].scalar
        // Each Float product rounds (relative 2⁻²⁴); over 50 000 steps that drifts up to ~3e-3.
        let exact = pow(Double(Float(1.0001)), 50_000)
        XCTAssertEqual(Double(g), exact, accuracy: 3e-3 * exact)
    }

    func testDeepChainsOfEveryRuleShapeAreFreedIteratively() {
        // Chains whose rules read their inputs: addition, subtraction, selection, products.
        let x = Tensor(shape: [2], scalars: [1, 2]).tracked()
        let mask = Tensor(shape: [2], scalars: [1, 0])
        var y = x
        for i in 0..<30_000 {
            switch i % 4 {
            case 0: y = y + x
            case 1: y = y - x
            case 2: y = Tensor.select(mask, y, y)
            default: y = y * x.detached()   // keeps values bounded: x = [1, 2] → y grows in one slot
            }
            if i % 4 == 3 { y = y * 0.5 }
        }
        XCTAssertTrue(gradients(of: y.sum(), wrt: [x])[0].isFinite)
        y = x   // drops the chain: must not overflow the stack
    }

    func testWritingATensorDropsItFromTheGraph() {
        var x = Tensor(shape: [2], scalars: [1, 2]).tracked()
        let shared = x
        x.withUnsafeMutableBufferPointer { $0[0] = 5 }
        XCTAssertFalse(x.isTracked)
        XCTAssertEqual(shared.scalars, [1, 2], "value semantics: the other copy is unchanged")
        XCTAssertEqual(x.scalars, [5, 2])
    }

    func testRulesOffThePathToTheTargetsDoNotRun() {
        // y depends on a and b; only a is asked for, so b's branch (a custom op that counts
        // its backward calls) must not run, and a's gradient is unchanged.
        let a = Tensor(shape: [2], scalars: [1, 2]).tracked(), b = Tensor(shape: [2], scalars: [3, 4]).tracked()
        var calls = 0
        let viaB = customOp(inputs: [b], outputs: [withoutGraph { b * 5 }]) { g in calls += 1; return [g[0] * 5] }[0]
        let y = (a * viaB).sum() + viaB.sum()
        XCTAssertEqual(gradients(of: y, wrt: [a])[0].scalars, [15, 20])
        XCTAssertEqual(calls, 0)
        XCTAssertEqual(gradients(of: y, wrt: [a, b])[1].scalars, [10, 15])   // 5a + 5
        XCTAssertEqual(calls, 1)
    }

    func testVectorJacobianProductOfSeveralOutputsIsTheGradientOfTheirInnerProducts() {
        // Outputs that share nodes (y2 reads y1) and one listed twice: the same bits as the
        // gradient of Σₖ ⟨yₖ, cₖ⟩, first and second order.
        let x = randomTensor([3, 4], seed: 1).tracked()
        let y1 = (x * x).tanh(), y2 = matmul(y1, x, transposeB: true).exp()
        let outputs = [y1, y2, y1]
        let cotangents = [randomTensor([3, 4], seed: 2), randomTensor([3, 3], seed: 3), randomTensor([3, 4], seed: 4)]
        for createGraph in [false, true] {
            let inner = zip(outputs, cotangents).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
            let expected = gradients(of: inner, wrt: [x], createGraph: createGraph)[0]
            let got = vectorJacobianProduct(of: outputs, wrt: [x], cotangents: cotangents, createGraph: createGraph)[0]
            XCTAssertEqual(got.scalars, expected.scalars)
            XCTAssertEqual(got.isTracked, createGraph)
            // An output asked for itself gets its cotangent, a constant unless createGraph.
            let own = vectorJacobianProduct(of: [y1], wrt: [y1], cotangents: [cotangents[0].tracked()], createGraph: createGraph)[0]
            XCTAssertEqual(own.scalars, cotangents[0].scalars)
            XCTAssertEqual(own.isTracked, createGraph)
        }
        // An output listed three times: its cotangents are summed in the gradient's order
        // (last first), which decides the bits when they cancel.
        let y = x * 1
        let cancelling = [Float(1e8), -1e8, 1].map { Tensor(shape: [3, 4], scalars: [Float](repeating: $0, count: 12)) }
        let inner = cancelling.map { (y * $0).sum() }.reduce(Tensor(0), +)
        XCTAssertEqual(vectorJacobianProduct(of: [y, y, y], wrt: [x], cotangents: cancelling)[0].scalars,
                       gradients(of: inner, wrt: [x])[0].scalars)
        let untracked = vectorJacobianProduct(of: [Tensor.ones([2])], wrt: [x], cotangents: [Tensor.ones([2])])[0]
        XCTAssertEqual(untracked.scalars, [Float](repeating: 0, count: 12))
    }
}
