// Users of L2L get the tensor core with it.
@_exported import L2LTensor
