/// Weights that combine red, green and blue into one grey value: grey = r·R + g·G + b·B.
public struct GreyWeights: Equatable, Sendable {
    public var r: Float, g: Float, b: Float

    public init(r: Float, g: Float, b: Float) {
        self.r = r
        self.g = g
        self.b = b
    }

    /// The MTL2L paper's weights (Appendix B.2), read as the usual rounded luma:
    /// 0.30 R + 0.59 G + 0.11 B. The paper prints "0.30R + 0.59B + 0.11G", with blue and
    /// green swapped against every luma convention; we take that for a typo (the authors'
    /// code for this data set is not public). ``mtl2lAsPrinted`` is the literal reading.
    public static let mtl2l = GreyWeights(r: 0.30, g: 0.59, b: 0.11)
    /// The MTL2L paper's B.2 taken literally: 0.30 R + 0.11 G + 0.59 B.
    public static let mtl2lAsPrinted = GreyWeights(r: 0.30, g: 0.11, b: 0.59)
    /// ITU-R BT.601 luma: 0.299 R + 0.587 G + 0.114 B.
    public static let itu601 = GreyWeights(r: 0.299, g: 0.587, b: 0.114)
}

extension Dataset {
    /// The "modified CIFAR-10" of the MTL2L paper (Appendix B.2): each `[3, H, W]` colour
    /// example made grey by ``GreyWeights`` and cut to its first `rows` rows and first
    /// `columns` columns (top-left corner, no resizing).
    ///
    /// Shapes: inputs `[n, 3·H·W]` channel-major (as ``CIFAR10`` and ``STL10`` give them)
    /// → `[n, rows·columns]`, `exampleShape` `[rows, columns]`; labels and classes unchanged.
    ///
    /// ```swift
    /// let grey = try CIFAR10.load(.test).greyCropped()   // [10000, 784], exampleShape [28, 28]
    /// ```
    ///
    /// Throws `.shapeMismatch` unless the examples are `[3, H, W]` with `rows ≤ H` and
    /// `columns ≤ W`.
    public func greyCropped(rows: Int = 28, columns: Int = 28, weights: GreyWeights = .mtl2l) throws -> Dataset {
        guard exampleShape.count == 3, exampleShape[0] == 3 else {
            throw L2LError.shape("grey: expected colour examples of shape [3, rows, columns], got \(exampleShape)")
        }
        let (h, w) = (exampleShape[1], exampleShape[2])
        guard rows >= 1, columns >= 1, rows <= h, columns <= w else {
            throw L2LError.shape("grey: cannot cut \(rows)×\(columns) pixels from \(h)×\(w) images")
        }
        let n = count, plane = h * w, f = features
        let grey = inputs.withUnsafeBufferPointer { src in
            Tensor(shape: [n, rows * columns]) { dst, _ in
                for i in 0..<n {
                    let red = src.baseAddress! + i * f, green = red + plane, blue = green + plane
                    let out = dst + i * rows * columns
                    for r in 0..<rows {
                        for c in 0..<columns {
                            let k = r * w + c
                            out[r * columns + c] = weights.r * red[k] + weights.g * green[k] + weights.b * blue[k]
                        }
                    }
                }
            }
        }
        return try Dataset(inputs: grey, labels: labels, classes: classes, exampleShape: [rows, columns])
    }
}
