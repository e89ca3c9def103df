/// Gathering and scatter-adding by flat (row-major) element index: the linear maps that
/// pooling, strided subsampling and label picking are built from. Each is the other's
/// adjoint, so gradients of any order flow through them.
extension Tensor {
    /// `result[i] = self.flat[indices[i]]`, shaped `shape` (whose count must equal
    /// `indices.count`).
    public func gather(flat indices: [Int32], shape outShape: [Int]) -> Tensor {
        precondition(Shape.count(outShape) == indices.count,
                     "gather(flat:): \(indices.count) indices for result shape \(outShape)")
        let n = count
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < n }, "gather(flat:): an index is outside 0..<\(n)")
        let p = storage.pointer
        return Tensor(shape: outShape) { out, m in
            indices.withUnsafeBufferPointer { idx in for i in 0..<m { out[i] = p[Int(idx[i])] } }
        }.recorded([self]) { [shape] c in [c.grad.scatterAdd(flat: indices, shape: shape)] }
    }

    /// The adjoint of ``gather(flat:shape:)``: a tensor of `shape`, zero except that
    /// `self.flat[i]` is added at flat position `indices[i]` (repeated indices accumulate).
    public func scatterAdd(flat indices: [Int32], shape outShape: [Int]) -> Tensor {
        precondition(indices.count == count, "scatterAdd(flat:): \(indices.count) indices for \(count) values")
        let n = Shape.count(outShape)
        precondition(indices.allSatisfy { $0 >= 0 && Int($0) < n }, "scatterAdd(flat:): an index is outside 0..<\(n)")
        let out = Tensor(repeating: 0, shape: outShape)
        let (p, q) = (storage.pointer, out.storage.pointer)
        indices.withUnsafeBufferPointer { idx in for i in 0..<idx.count { q[Int(idx[i])] += p[i] } }
        return out.recorded([self]) { [shape] c in [c.grad.gather(flat: indices, shape: shape)] }
    }
}
