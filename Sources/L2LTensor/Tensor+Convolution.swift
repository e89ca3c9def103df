/// 2-D convolution by im2col + one sgemm, in NCHW layout.
///
/// `im2col` and `col2im` are each other's adjoints (both linear), and the convolution is
/// `matmul` plus reshapes around them, so gradients of every order come for free.

/// Geometry of a 2-D sliding window over `[n, c, h, w]` inputs.
public struct Window2D: Equatable, Sendable {
    public let kernelHeight: Int, kernelWidth: Int
    public let stride: Int, padding: Int

    public init(kernel: Int, stride: Int = 1, padding: Int = 0) {
        self.init(kernelHeight: kernel, kernelWidth: kernel, stride: stride, padding: padding)
    }

    public init(kernelHeight: Int, kernelWidth: Int, stride: Int = 1, padding: Int = 0) {
        precondition(kernelHeight >= 1 && kernelWidth >= 1 && stride >= 1 && padding >= 0,
                     "Window2D: kernel \(kernelHeight)×\(kernelWidth), stride \(stride), padding \(padding) is invalid")
        self.kernelHeight = kernelHeight
        self.kernelWidth = kernelWidth
        self.stride = stride
        self.padding = padding
    }

    /// Output height and width for an input of `h × w`.
    public func outputSize(height h: Int, width w: Int) -> (height: Int, width: Int) {
        ((h + 2 * padding - kernelHeight) / stride + 1, (w + 2 * padding - kernelWidth) / stride + 1)
    }
}

extension Tensor {
    /// Unfolds the windows of `[n, c, h, w]` inputs into columns: the result is
    /// `[c·kh·kw, n·ho·wo]`, row `(ci, ki, kj)`, column `(ni, oi, oj)`; padding reads zeros.
    public func im2col(_ window: Window2D) -> Tensor {
        precondition(rank == 4, "im2col: expected [n, c, h, w], got shape \(shape)")
        let (n, c, h, w) = (shape[0], shape[1], shape[2], shape[3])
        let (ho, wo) = window.outputSize(height: h, width: w)
        precondition(ho >= 1 && wo >= 1, "im2col: a \(window.kernelHeight)×\(window.kernelWidth) window does not fit shape \(shape) with padding \(window.padding)")
        let (kh, kw, s, p) = (window.kernelHeight, window.kernelWidth, window.stride, window.padding)
        let columns = n * ho * wo
        let src = storage.pointer
        return Tensor(shape: [c * kh * kw, columns]) { dst, _ in
            Kernels.forChunks(c * kh * kw, minimumWork: columns) { rows in
                for row in rows {
                    let (ci, ki, kj) = (row / (kh * kw), (row / kw) % kh, row % kw)
                    var out = dst + row * columns
                    for ni in 0..<n {
                        let image = src + (ni * c + ci) * h * w
                        for oi in 0..<ho {
                            let y = oi * s - p + ki
                            if y < 0 || y >= h { out.update(repeating: 0, count: wo); out += wo; continue }
                            let line = image + y * w
                            for oj in 0..<wo {
                                let x = oj * s - p + kj
                                out[oj] = x >= 0 && x < w ? line[x] : 0
                            }
                            out += wo
                        }
                    }
                }
            }
        }.recorded([self]) { [shape] ctx in [ctx.grad.col2im(window, imageShape: shape)] }
    }

    /// The adjoint of ``im2col(_:)``: sums columns `[c·kh·kw, n·ho·wo]` back into images
    /// of `imageShape` `[n, c, h, w]` (overlapping windows accumulate).
    public func col2im(_ window: Window2D, imageShape: [Int]) -> Tensor {
        precondition(imageShape.count == 4, "col2im: image shape must be [n, c, h, w], got \(imageShape)")
        let (n, c, h, w) = (imageShape[0], imageShape[1], imageShape[2], imageShape[3])
        let (ho, wo) = window.outputSize(height: h, width: w)
        let (kh, kw, s, p) = (window.kernelHeight, window.kernelWidth, window.stride, window.padding)
        let columns = n * ho * wo
        precondition(shape == [c * kh * kw, columns], "col2im: columns of shape \(shape) do not fit images \(imageShape)")
        let out = Tensor(repeating: 0, shape: imageShape)
        let (src, dst) = (storage.pointer, out.storage.pointer)
        // Channels are independent: split them across cores.
        Kernels.forChunks(c, minimumWork: kh * kw * columns) { channels in
            for ci in channels {
                for ki in 0..<kh {
                    for kj in 0..<kw {
                        var col = src + ((ci * kh + ki) * kw + kj) * columns
                        for ni in 0..<n {
                            let image = dst + (ni * c + ci) * h * w
                            for oi in 0..<ho {
                                let y = oi * s - p + ki
                                if y >= 0 && y < h {
                                    let line = image + y * w
                                    for oj in 0..<wo {
                                        let x = oj * s - p + kj
                                        if x >= 0 && x < w { line[x] += col[oj] }
                                    }
                                }
                                col += wo
                            }
                        }
                    }
                }
            }
        }
        return out.recorded([self]) { ctx in [ctx.grad.im2col(window)] }
    }

    /// 2-D convolution (cross-correlation, as in every deep-learning library) of
    /// `input` `[n, c, h, w]` with `kernel` `[o, c, kh, kw]` plus an optional `bias` `[o]`;
    /// the result is `[n, o, ho, wo]` with `ho = (h + 2·padding − kh) / stride + 1`.
    public static func conv2d(_ input: Tensor, kernel: Tensor, bias: Tensor? = nil,
                              stride: Int = 1, padding: Int = 0) -> Tensor {
        precondition(input.rank == 4 && kernel.rank == 4 && input.shape[1] == kernel.shape[1],
                     "conv2d: input \(input.shape) and kernel \(kernel.shape) do not fit ([n, c, h, w] and [o, c, kh, kw])")
        let (n, o) = (input.shape[0], kernel.shape[0])
        let window = Window2D(kernelHeight: kernel.shape[2], kernelWidth: kernel.shape[3], stride: stride, padding: padding)
        let (ho, wo) = window.outputSize(height: input.shape[2], width: input.shape[3])
        let columns = input.im2col(window)                                      // [c·kh·kw, n·ho·wo]
        var out = matmul(kernel.reshaped([o, -1]), columns)                     // [o, n·ho·wo]
        if let bias {
            precondition(bias.shape == [o], "conv2d: bias shape \(bias.shape) must be [\(o)]")
            out = out + bias.reshaped([o, 1])
        }
        return out.reshaped([o, n, ho * wo]).permuted([1, 0, 2]).reshaped([n, o, ho, wo])
    }
}
