/// 2-D max and average pooling over `[n, c, h, w]`, built on flat gathers: the window
/// positions are computed once, the pooled values are a differentiable gather (max) or a
/// gather and mean (average). Padding is not supported (the papers' nets do not use it
/// for pooling); windows must fit the input.
extension Tensor {
    /// Flat input positions of every window element: `[n·c·ho·wo·kh·kw]`, window-major.
    private func windowIndices(_ window: Window2D, op: String) -> (indices: [Int32], outShape: [Int]) {
        precondition(rank == 4, "\(op): expected [n, c, h, w], got shape \(shape)")
        precondition(window.padding == 0, "\(op): padding is not supported")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (ho, wo) = window.outputSize(height: h, width: w)
        precondition(ho >= 1 && wo >= 1, "\(op): a \(window.kernelHeight)×\(window.kernelWidth) window does not fit shape \(shape)")
        let (kh, kw, s) = (window.kernelHeight, window.kernelWidth, window.stride)
        var indices = [Int32]()
        indices.reserveCapacity(n * c * ho * wo * kh * kw)
        for plane in 0..<(n * c) {
            let base = plane * h * w
            for oi in 0..<ho { for oj in 0..<wo { for ki in 0..<kh { for kj in 0..<kw {
                indices.append(Int32(base + (oi * s + ki) * w + oj * s + kj))
            } } } }
        }
        return (indices, [n, c, ho, wo])
    }

    /// Maximum over each window. The gradient flows to the first maximal element of each
    /// window (the choice is a constant of the forward pass).
    public func maxPool2d(_ window: Window2D) -> Tensor {
        let (indices, outShape) = windowIndices(window, op: "maxPool2d")
        let k = window.kernelHeight * window.kernelWidth
        let p = storage.pointer
        var argmax = [Int32](repeating: 0, count: indices.count / k)
        for o in 0..<argmax.count {
            var best = indices[o * k]
            for j in 1..<k where p[Int(indices[o * k + j])] > p[Int(best)] { best = indices[o * k + j] }
            argmax[o] = best
        }
        return gather(flat: argmax, shape: outShape)
    }

    /// Mean over each window.
    public func avgPool2d(_ window: Window2D) -> Tensor {
        let (indices, outShape) = windowIndices(window, op: "avgPool2d")
        let k = window.kernelHeight * window.kernelWidth
        return gather(flat: indices, shape: [indices.count / k, k]).mean(axis: 1).reshaped(outShape)
    }

    /// Mean over the spatial axes of `[n, c, h, w]`: the result is `[n, c]`.
    public func globalAvgPool2d() -> Tensor {
        precondition(rank == 4, "globalAvgPool2d: expected [n, c, h, w], got shape \(shape)")
        return reshaped([shape[0], shape[1], shape[2] * shape[3]]).mean(axis: 2)
    }
}
