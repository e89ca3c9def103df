import CKernels

/// Copies `rows` rows of `width` floats from `source` (rows `sourceStride` floats apart) to
/// `destination` (rows `destinationStride` apart); the two must not overlap. Rows narrower
/// than 16 floats go to a C loop (`l2lk_copy_narrow_rows`, the width a constant for 1, 2, 3,
/// 4 and 8): a
/// `memmove` call per row of a few floats cost more than the copy (concatenating three
/// `[P, 1]` columns into `[P, 3]` took 250 µs for P = 25,450 through one `memmove` per
/// element, 43 µs through a Swift loop).
@inline(__always)
func copyRows(_ rows: Int, width: Int, from source: UnsafePointer<Float>, stride sourceStride: Int,
              to destination: UnsafeMutablePointer<Float>, stride destinationStride: Int) {
    guard rows > 0, width > 0 else { return }
    if width == sourceStride && width == destinationStride {
        destination.update(from: source, count: rows * width)
    } else if width >= 16 {
        for r in 0..<rows { (destination + r * destinationStride).update(from: source + r * sourceStride, count: width) }
    } else {
        l2lk_copy_narrow_rows(rows, width, source, sourceStride, destination, destinationStride)
    }
}

/// Sets `rows` rows of `width` floats, `stride` floats apart, to zero.
@inline(__always)
func zeroRows(_ rows: Int, width: Int, at destination: UnsafeMutablePointer<Float>, stride: Int) {
    guard rows > 0, width > 0 else { return }
    if width == stride {
        destination.update(repeating: 0, count: rows * width)
    } else if width >= 16 {
        for r in 0..<rows { (destination + r * stride).update(repeating: 0, count: width) }
    } else {
        for r in 0..<rows {
            let d = destination + r * stride
            for k in 0..<width { d[k] = 0 }
        }
    }
}
