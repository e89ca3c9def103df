/// Shape arithmetic shared by every op: element counts, strides, broadcasting.
public enum Shape {
    /// Number of elements of a tensor of this shape (1 for a scalar `[]`).
    @inlinable
    public static func count(_ shape: [Int]) -> Int {
        var n = 1
        for d in shape { n *= d }
        return n
    }

    /// The most elements one tensor may hold (2³¹ − 1 floats ≈ 8 GiB; also the largest
    /// dimension BLAS's 32-bit sizes take). Front doors check sizes they are given against
    /// it so a request for an impossible allocation is an error, not a crash.
    public static let maxElements = Int(Int32.max)

    /// The element count of `shape`, or `nil` if a dimension is negative or the count
    /// exceeds ``maxElements`` (overflow included).
    public static func checkedCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            guard d >= 0 else { return nil }
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            guard !overflow, p <= maxElements else { return nil }
            n = p
        }
        return n
    }

    /// Row-major strides of `shape`.
    public static func strides(_ shape: [Int]) -> [Int] {
        var strides = [Int](repeating: 1, count: shape.count)
        var s = 1
        for i in stride(from: shape.count - 1, through: 0, by: -1) {
            strides[i] = s
            s *= shape[i]
        }
        return strides
    }

    /// The NumPy broadcast of two shapes (right-aligned; a dimension of 1 stretches),
    /// or `nil` when they are incompatible.
    public static func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
        let rank = max(a.count, b.count)
        var out = [Int](repeating: 1, count: rank)
        for i in 0..<rank {
            let da = i < rank - a.count ? 1 : a[i - (rank - a.count)]
            let db = i < rank - b.count ? 1 : b[i - (rank - b.count)]
            if da == db || db == 1 { out[i] = da } else if da == 1 { out[i] = db } else { return nil }
        }
        return out
    }

    /// Strides to read a tensor of shape `shape` as if it had shape `target` (its
    /// broadcast): 0 along stretched or missing dimensions.
    static func broadcastStrides(_ shape: [Int], to target: [Int]) -> [Int] {
        let own = strides(shape)
        let offset = target.count - shape.count
        var out = [Int](repeating: 0, count: target.count)
        for i in 0..<shape.count where shape[i] == target[i + offset] && shape[i] != 1 {
            out[i + offset] = own[i]
        }
        return out
    }

    /// Normalises a possibly negative axis for a tensor of rank `rank`; traps with the
    /// op's name when it is out of range.
    static func axis(_ axis: Int, rank: Int, op: String) -> Int {
        let a = axis < 0 ? axis + rank : axis
        precondition(a >= 0 && a < rank, "\(op): axis \(axis) out of range for rank \(rank)")
        return a
    }

    /// Product of the dimensions before, at and after `axis`: the `[outer, n, inner]` view.
    static func split(_ shape: [Int], at axis: Int) -> (outer: Int, n: Int, inner: Int) {
        (count(Array(shape[..<axis])), shape[axis], count(Array(shape[(axis + 1)...])))
    }
}
