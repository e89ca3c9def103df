"""Learned optimisers: an optimiser network with its meta-parameters phi.

    net = l2l.MLP([784, 32, 10], seed=0)
    opt = l2l.learned.MetaSGD(net, lr=1e-3)          # one learned rate per parameter of net
    lstm = l2l.learned.LSTMOptimizer(preset="paper")  # coordinate-wise: fits any learner
    phi = opt.meta_parameters()                       # flat float32 copy of phi
    opt.save("meta_sgd.safetensors")
    again = l2l.learned.load("meta_sgd.safetensors")  # kind, options and phi
    l2l.train(net, opt.as_optimizer(), train_set, steps=100)

Meta-train them with `l2l.meta.MetaTrainer`, meta-test them with `l2l.meta.meta_test`.

Kinds and options (those of l2l_learned_create in include/l2l.h, with the same defaults):

=========  ================================================================================
lstm       Andrychowicz et al.'s coordinate-wise LSTM optimiser, theta <- theta + scale*out.
           preset "paper" (2 x 20 LSTM + linear head) or "mtl2l" (20 then 1 unit, no head);
           layers, head, scale=0.1, p=10, forget_bias, input_bias, head_init=0.01,
           rms_decay=0 (0 to 0.999999: divide g by its running RMS, as Adam's sqrt(v_hat), first),
           inputs="log_sign" ("adam": RNNprop's g/sqrt(v_hat) and m_hat/sqrt(v_hat) instead),
           beta1=0.95, beta2=0.95 (their decays), squash=0 (1: theta <- theta + scale*tanh(out)),
           odd=0 (1: the update (out(g) - out(-g)) / 2, odd in the gradients; twice the work)
meta_sgd   Meta-SGD, theta <- theta - beta*g, one learned rate per learner parameter; lr=1e-3
dmsgd      Dynamic Meta-SGD: beta_t = ReLU(beta_static + gamma*tanh(U h_t)), h_t from a
           coordinate-wise LSTM over the preprocessed gradient; hidden=20, beta_static=1e-3,
           u_beta_init=0 (U drawn from U(+-a); 0 starts it at zero), u_beta_sign="random"
           ("positive": the draw flipped if the first rates would all be 0), learn_gamma=False, p=10
m2sgd      DMSGD, then theta <- theta * 1[beta_t > xi] (masked); xi=0, mask_during
           "meta_testing" (or "meta_training", "both"), rate_penalty=0 (lam * mean(beta_t)
           added to each meta-training step's loss; not the paper's)
mtl2l      MTL2L: a coordinate-wise 2-layer LSTM whose synapses Q diag(N(X)) P^T come from
           hypernetworks N on the learner's input batch X; preset "paper" or "code"; hidden=20,
           hyper_hidden=32, inputs (the learner's), gate_biases, context_relu, dropout, noise,
           noise_horizon=100, scale=0.1, p=10, gradient_inputs="log_sign" ("adam" as lstm's inputs),
           beta1, beta2, odd=0 (as lstm's), eigenvalues="shared" ("per_gate"), bases="fixed"
           ("learned"). Every step needs the batch of its gradient.
=========  ================================================================================

Meta-SGD, DMSGD and M2SGD have meta-parameters per learner parameter, so they are built for
one learner architecture (pass the learner; only its shapes are used) and refuse others
with ShapeError. The LSTM optimiser fits any learner. MTL2L fits any learner of the input
width it was built for (ShapeError for another width).
"""

from __future__ import annotations

import os
from typing import Any, Dict, Optional, Union

import numpy as np

from . import _l2l
from ._common import as_path, format_options
from .learners import Learner
from .optim import Optimizer

__all__ = ["LearnedOptimizer", "LSTMOptimizer", "MetaSGD", "DMSGD", "M2SGD", "MTL2L", "TrainedOptimizer", "load",
           "KINDS"]

#: The learned-optimiser kinds of the library.
KINDS = ("lstm", "meta_sgd", "dmsgd", "m2sgd", "mtl2l")

PHASES = ("meta_testing", "meta_training")


def _parse_value(text: str) -> Any:
    """An option value from the library's options text: int, float, tuple of ints or str."""
    if "," in text:
        parts = text.split(",")
        try:
            return tuple(int(p) for p in parts)
        except ValueError:
            return text
    for convert in (int, float):
        try:
            return convert(text)
        except ValueError:
            pass
    return text


def _parse_options(text: str) -> Dict[str, Any]:
    out: Dict[str, Any] = {}
    for item in text.replace(";", " ").split():
        key, _, value = item.partition("=")
        out[key] = _parse_value(value)
    return out


class LearnedOptimizer:
    """A learned optimiser of `kind` (see the module docstring) with meta-parameters phi
    drawn from `seed`. `learner` is required for the per-parameter kinds (meta_sgd, dmsgd,
    m2sgd: only its parameter shapes are used) and ignored by "lstm". Keyword options are
    those of l2l_learned_create; unknown ones raise InvalidArgumentError.

    `kind` and `options` (every option, defaults included, as the library reports them)
    describe it; `meta_parameters()` / `set_meta_parameters(a)` read and replace phi (flat,
    in the library's tensor order); `save(path)` writes a .safetensors file that `load`
    (and the C and Swift APIs) read back; `as_optimizer()` gives an ordinary optimiser for
    `l2l.train`, `Optimizer.step` and `l2l.meta.meta_test`.
    """

    def __init__(self, kind: str, learner: Optional[Learner] = None, seed: int = 0, **options: Any):
        handle = _l2l.Learned(kind, format_options(options), learner._handle if learner is not None else None,
                              int(seed))
        self._set_handle(handle)

    def _set_handle(self, handle: "_l2l.Learned") -> None:
        self._handle = handle
        self.kind, self.options_text = handle.describe()
        self.options: Dict[str, Any] = _parse_options(self.options_text)
        self.num_meta_params, self.num_tensors = (int(v) for v in handle.info())

    @classmethod
    def _from_handle(cls, handle: "_l2l.Learned") -> "LearnedOptimizer":
        kind, _ = handle.describe()
        target = _CLASSES.get(kind, LearnedOptimizer)
        if not issubclass(target, cls):
            target = cls
        made = target.__new__(target)
        LearnedOptimizer._set_handle(made, handle)
        return made

    # -- meta-parameters ----------------------------------------------------------------

    def meta_parameters(self) -> np.ndarray:
        """A float32 copy of phi, flat ([num_meta_params])."""
        return self._handle.get_meta()

    def set_meta_parameters(self, values: Any) -> None:
        """Replaces phi with `num_meta_params` values laid out as `meta_parameters` gives
        them (any shape; flattened). ShapeError for another count, NonFiniteError for NaN
        or infinity; either way phi is unchanged. Optimisers already made by `as_optimizer`
        keep the phi they copied."""
        a = np.ascontiguousarray(values, dtype=np.float32).reshape(-1)
        self._handle.set_meta(a)

    # -- files and optimisers -----------------------------------------------------------

    def save(self, path: Union[str, "os.PathLike[str]"]) -> None:
        """Saves kind, options, phi and the learner shapes to a .safetensors file (written
        to path.tmp, then renamed). FileError if it cannot be written."""
        self._handle.save(os.fsdecode(as_path(path)))

    def as_optimizer(self, phase: str = "meta_testing") -> "TrainedOptimizer":
        """An ordinary optimiser stepping with a copy of the current phi. `phase` is what
        phase-dependent behaviour follows (M2SGD masks in the phases its mask_during names):
        "meta_testing" (the default) or "meta_training"."""
        return TrainedOptimizer(self, phase)

    def __repr__(self) -> str:
        return f"<l2l.learned {type(self).__name__} {self.kind} ({self.options_text}): {self.num_meta_params} meta-parameters>"


class TrainedOptimizer(Optimizer):
    """A learned optimiser with fixed phi as an `l2l.optim.Optimizer` (made by
    `LearnedOptimizer.as_optimizer`): use it with `step(learner)`, `reset()`, `l2l.train`
    and `l2l.meta.meta_test`. A per-parameter kind steps only learners of the shapes it was
    built for (ShapeError otherwise)."""

    def __init__(self, learned: LearnedOptimizer, phase: str = "meta_testing"):
        # Not Optimizer.__init__: the handle comes from l2l_optimizer_create_learned.
        self._handle = _l2l.optimizer_create_learned(learned._handle, format_options({"phase": phase}))
        self.kind = learned.kind
        self.options = dict(learned.options, phase=phase)
        self.phase = phase

    def __repr__(self) -> str:
        return f"<l2l.learned.TrainedOptimizer {self.kind}, phase={self.phase}>"


class LSTMOptimizer(LearnedOptimizer):
    """The coordinate-wise LSTM optimiser of Andrychowicz et al. (2016) ("lstm"). `preset`:
    "paper" (2 x 20 LSTM and a linear head) or "mtl2l" (20 then 1 unit, no head). Other
    options: layers, head, scale, p, forget_bias, input_bias, head_init, init_scales (one
    half-width factor per layer for phi's initial draw, a list or "0.5,0.5"), rms_decay (the
    gradient divided by its running RMS before the preprocessing, scale-free inputs), inputs
    ("adam": RNNprop's features of Lv et al. 2017, g / sqrt(v_hat) and m_hat / sqrt(v_hat), with
    beta1, beta2 = 0.95), squash (1: a tanh on the output), odd (1: the update is
    (out(g) - out(-g)) / 2, each coordinate's mirror image run with its own state, so it is
    odd in the gradients and a zero gradient moves nothing). Fits learners
    of any architecture; `LSTMOptimizer(**loaded.options)` rebuilds a loaded one."""

    def __init__(self, preset: str = "paper", seed: int = 0, **options: Any):
        super().__init__("lstm", None, seed, preset=preset, **options)


class MetaSGD(LearnedOptimizer):
    """Meta-SGD ("meta_sgd"): theta <- theta - beta*g with one learned rate per parameter of
    `learner`'s architecture, all starting at `lr`."""

    def __init__(self, learner: Learner, lr: float = 1e-3, seed: int = 0):
        super().__init__("meta_sgd", learner, seed, lr=float(lr))


class DMSGD(LearnedOptimizer):
    """Dynamic Meta-SGD ("dmsgd", M2SGD paper eqs. 6-9), built for `learner`'s architecture.
    Options: hidden=20, beta_static=1e-3, u_beta_init=0, u_beta_sign="random", learn_gamma=False,
    p=10. u_beta_init=a draws U_beta from U(-a, a) (the authors' code: a = 1/sqrt(20) ~ 0.2236,
    tanh terms of order 0.06 at start; what M2SGD's sparsity depends on: docs/m2sgd-sparsity.md)
    instead of starting it at zero; u_beta_sign="positive" negates a draw that would put
    every first-step rate at 0 (a meta-training that never starts)."""

    def __init__(self, learner: Learner, seed: int = 0, **options: Any):
        super().__init__("dmsgd", learner, seed, **options)


class M2SGD(LearnedOptimizer):
    """Masked Meta-SGD ("m2sgd", eqs. 10-11): DMSGD, then weights whose rate beta_t is not
    above `xi` are set to zero, in the phases `mask_during` names ("meta_testing",
    "meta_training" or "both"). rate_penalty=lam (default 0; not the paper's) makes
    meta-training add lam * mean(beta_t) to each step's loss, pulling the rates towards 0,
    where the mask removes the weight (beta_t starts near beta_static = 1e-3). Other options
    as DMSGD. The main job's recipe, which reaches the paper's xi = 0 point on the mean of
    seven seeds (README: 60 % removed at 0.49 points below DMSGD; larger xi loses more than
    the paper): M2SGD(net, mask_during="both", u_beta_init=0.05, u_beta_sign="positive")
    meta-trained with MetaTrainer(..., trials=4, steps=1000, meta_batch=2) on the 784-32-10
    MLP, its phi then tested at any xi."""

    def __init__(self, learner: Learner, xi: float = 0.0, mask_during: str = "meta_testing", seed: int = 0,
                 **options: Any):
        super().__init__("m2sgd", learner, seed, xi=float(xi), mask_during=mask_during, **options)


class MTL2L(LearnedOptimizer):
    """MTL2L ("mtl2l", Kuo et al., arXiv:2007.09343): a coordinate-wise 2-layer LSTM whose
    synapses are Q diag(N(X)) P^T, with hypernetworks N reading the learner's input batch X
    and orthogonal Q, P saved with phi (fixed unless bases="learned"). Built for `learner`'s input width; every step
    needs the batch that produced the gradient (l2l.train and meta_test pass it; a bare
    `step` uses the batch of the learner's last `loss_and_grad`). `preset`: "paper" (default)
    or "code" (the authors' released code, 102,226 trainable meta-parameters on a
    784-input learner). Other options: hidden=20, hyper_hidden=32, gate_biases ("all" or
    "forget_input"), context_relu, dropout, noise, noise_horizon=100, scale=0.1, p=10,
    gradient_inputs ("adam": RNNprop's features, as LSTMOptimizer's inputs="adam"; here `inputs`
    is the learner's width), beta1, beta2 = 0.95, odd (1: an update odd in the gradients),
    eigenvalues ("per_gate": each of layer 1's gates its own eigenvalues) and bases ("learned":
    Q and P meta-trained) — ablations, neither the paper's nor the code's."""

    def __init__(self, learner: Learner, preset: str = "paper", seed: int = 0, **options: Any):
        super().__init__("mtl2l", learner, seed, preset=preset, **options)


_CLASSES = {"lstm": LSTMOptimizer, "meta_sgd": MetaSGD, "dmsgd": DMSGD, "m2sgd": M2SGD, "mtl2l": MTL2L}


def load(path: Union[str, "os.PathLike[str]"]) -> LearnedOptimizer:
    """Loads a learned optimiser saved by `LearnedOptimizer.save` (or the C or Swift API),
    as the class of its kind. FileError if the file is missing; FormatError if it is
    truncated, altered or not a learned optimiser."""
    return LearnedOptimizer._from_handle(_l2l.Learned.load(os.fsdecode(as_path(path))))
