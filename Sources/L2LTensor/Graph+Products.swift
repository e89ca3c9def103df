/// Products with Jacobians and Hessians, built on ``gradients(of:wrt:createGraph:)``.

/// Jᵀu: the gradient of Σ output ⊙ `cotangent` with respect to each of `wrt`.
///
/// `cotangent` has the shape of `output` (any shape); the results have the shapes of `wrt`.
public func vectorJacobianProduct(of output: Tensor, wrt: [Tensor], cotangent: Tensor,
                                  createGraph: Bool = false) -> [Tensor] {
    vectorJacobianProduct(of: [output], wrt: wrt, cotangents: [cotangent], createGraph: createGraph)
}

/// Σₖ Jₖᵀuₖ for several outputs at once: the gradient of Σₖ Σ outputₖ ⊙ `cotangents[k]` with
/// respect to each of `wrt`, in one reverse pass that starts from the cotangents themselves
/// (no products or sums are formed). `cotangents[k]` has the shape of `outputs[k]`; the
/// results have the shapes of `wrt`.
public func vectorJacobianProduct(of outputs: [Tensor], wrt: [Tensor], cotangents: [Tensor],
                                  createGraph: Bool = false) -> [Tensor] {
    precondition(outputs.count == cotangents.count && zip(outputs, cotangents).allSatisfy { $0.shape == $1.shape },
                 "vectorJacobianProduct: cotangent shapes \(cotangents.map(\.shape)) differ from output shapes \(outputs.map(\.shape))")
    return reverseMode(seeds: Array(zip(outputs, cotangents)), wrt: wrt, createGraph: createGraph)
}

/// J·v, the directional derivative of `output` along `tangents` (one per `wrt`, same
/// shapes), by the double-vjp trick: u ↦ Jᵀu is linear in u, so the gradient of
/// ⟨Jᵀu, v⟩ with respect to u is J·v. Two reverse passes, the second only through the
/// recorded backward (the nodes that lead to u: about one forward pass's work); `output` must
/// have been computed from `wrt` with the graph recorded. The result has the shape of `output`.
public func jacobianVectorProduct(of output: Tensor, wrt: [Tensor], tangents: [Tensor],
                                  createGraph: Bool = false) -> Tensor {
    precondition(tangents.count == wrt.count && zip(tangents, wrt).allSatisfy { $0.shape == $1.shape },
                 "jacobianVectorProduct: tangent shapes \(tangents.map(\.shape)) differ from \(wrt.map(\.shape))")
    let u = Tensor.zeros(output.shape).tracked()
    let jtu = vectorJacobianProduct(of: output, wrt: wrt, cotangent: u, createGraph: true)
    return vectorJacobianProduct(of: jtu, wrt: [u], cotangents: tangents, createGraph: createGraph)[0]
}

/// H·v for the scalar `output` by double backward: the gradient of ⟨∇output, v⟩.
/// `vectors` has one tensor per `wrt`, same shapes; so do the results.
public func hessianVectorProduct(of output: Tensor, wrt: [Tensor], vectors: [Tensor],
                                 createGraph: Bool = false) -> [Tensor] {
    precondition(vectors.count == wrt.count && zip(vectors, wrt).allSatisfy { $0.shape == $1.shape },
                 "hessianVectorProduct: vector shapes \(vectors.map(\.shape)) differ from \(wrt.map(\.shape))")
    let g = gradients(of: output, wrt: wrt, createGraph: true)
    let inner = zip(g, vectors).map { ($0 * $1).sum() }.reduce(Tensor(0), +)
    return gradients(of: inner, wrt: wrt, createGraph: createGraph)
}
