"""Optimisers: `step(learner)` applies the gradient of the learner's last `loss_and_grad`.

    opt = l2l.optim.Adam(lr=1e-3)
    loss, _ = net.loss_and_grad(x, y)
    opt.step(net)

Each class names a kind of l2l_optimizer_create, with the same option names and defaults
as the Swift library (g is the gradient, t the step count from 1):

=========  ================================================================================
SGD        v <- momentum*v + g; theta <- theta - lr*v (nesterov: theta - lr*(g + momentum*v))
Momentum   SGD with momentum 0.9
Nesterov   SGD with Nesterov momentum 0.9
Adam       m, v moving averages of g, g^2; m^ = m/(1-beta1^t), v^ = v/(1-beta2^t);
           theta <- theta - lr*m^/sqrt(v^ + eps^2)   (eps_inside=False: lr*m^/(sqrt(v^) + eps))
RMSprop    v <- alpha*v + (1-alpha)*g^2; theta <- theta - lr*g/(sqrt(v) + eps)
           (PyTorch's, with optional momentum and centering)
Adagrad    s <- s + g^2; theta <- theta - lr/(1 + (t-1)*lr_decay) * g/(sqrt(s) + eps)
SMORMS3    Simon Funk's: steps of min(lr, g_avg^2/g2_avg) * g/sqrt(g2_avg) with an adaptive
           memory length
HFFixed    Hessian-free: conjugate gradient solves (G + lambda I) d = g with G the
           Gauss-Newton matrix of the batch; theta <- theta - lr*d
HFLM       HFFixed with Levenberg-Marquardt damping (lambda adapts to how well the quadratic
           model predicted the loss)
=========  ================================================================================

The Hessian-free optimisers need the batch as well as the gradient: `step(learner)` uses the
batch of the learner's last `loss_and_grad`, and `l2l.train` and `l2l.meta_test` take them
like any other optimiser.

Every optimiser except the Hessian-free ones, learned ones included, also updates arrays you
hold (a list or dict of float32 numpy arrays), optax-style:

    state = opt.init(params)
    params, state = opt.update(params, grads, state)            # new arrays
    opt.update(params, grads, state, out=params)                # or in place
"""

from __future__ import annotations

import json
from typing import Any, List, Mapping, Optional, Sequence, Tuple, Union

import numpy as np

from . import _l2l
from ._common import as_inputs, format_options
from .learners import Learner

__all__ = ["Optimizer", "OptimizerState", "SGD", "Momentum", "Nesterov", "Adam", "RMSprop", "Adagrad", "SMORMS3", "HFFixed", "HFLM"]


class Optimizer:
    """An optimiser held by the library; `kind` and keyword options are those of
    l2l_optimizer_create (unknown options raise InvalidArgumentError)."""

    def __init__(self, kind: str, **options: Any):
        self._handle = _l2l.Optimizer(kind, format_options(options))
        self.kind = kind
        self.options = dict(options)

    def step(self, learner: Learner) -> None:
        """Updates the learner's parameters with the gradient its last `loss_and_grad`
        stored, then forgets that gradient (StateError if there is none)."""
        self._handle.step(learner._handle)

    def reset(self) -> None:
        """Forgets the optimiser's state, so it can start afresh (on another learner too)."""
        self._handle.reset()

    # -- on your own arrays (optax-style) ------------------------------------------------

    @property
    def parameter_shapes(self) -> Optional[List[Tuple[int, ...]]]:
        """The parameter shapes this optimiser only works for (a learned optimiser with
        per-parameter meta-parameters: MetaSGD, DMSGD, M2SGD), or None if it takes any."""
        shapes = json.loads(self._handle.parameter_shapes())
        return None if shapes is None else [tuple(s) for s in shapes]

    def init(self, params: Params) -> "OptimizerState":
        """The state of this optimiser for `params` (a list, tuple or dict of arrays): use it
        with `update`. Each state is independent (its own moments, LSTM states, ...).
        ShapeError if the optimiser is tied to other shapes."""
        _, arrays = _named(params)
        shapes = [tuple(a.shape) for a in arrays]
        own = self.parameter_shapes
        if own is not None and own != shapes:
            raise _l2l.ShapeError(f"{self.kind} was built for parameter shapes {own}, not {shapes}")
        return OptimizerState(self._handle.fork(), shapes)

    def update(self, params: Params, grads: Params, state: "OptimizerState", batch: Any = None,
               out: Optional[Params] = None) -> Tuple[Params, "OptimizerState"]:
        """One update of `params` from `grads` (same structure and shapes: a list, tuple or dict
        of float32 arrays): returns `(new_params, state)`, new arrays in the same structure,
        or `out`'s arrays updated in place (pass `out=params` to update in place). `batch`
        is the input batch that produced the gradients, for optimisers that read it (MTL2L).
        `state` (from `init`) is advanced and returned. Errors (shape, NaN, a missing batch)
        raise and change nothing."""
        names, arrays = _named(params)
        grad_names, gradients = _named(grads)
        if grad_names != names:
            raise _l2l.ShapeError(f"grads have keys {grad_names}, params {names}")
        if [tuple(a.shape) for a in arrays] != state.shapes:
            raise _l2l.ShapeError(f"this state is for shapes {state.shapes}, got {[tuple(a.shape) for a in arrays]}")
        if out is None:
            targets = [np.array(a, dtype=np.float32, order="C", copy=True) for a in arrays]
        else:
            out_names, targets = _named(out, convert=False)
            if out_names != names:
                raise _l2l.ShapeError(f"out has keys {out_names}, params {names}")
        inputs = None if batch is None else as_inputs(batch)
        state._handle.update(list(targets), [as_inputs(g) for g in gradients], inputs)
        result = out if out is not None else (dict(zip(names, targets)) if isinstance(params, Mapping)
                                              else type(params)(targets) if isinstance(params, tuple) else targets)
        return result, state

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.options.items())
        if type(self) is Optimizer:
            return f"l2l.Optimizer({self.kind!r}{', ' if args else ''}{args})"
        return f"l2l.optim.{type(self).__name__}({args})"

    def __getattr__(self, name: str) -> Any:
        # Hyper-parameters read as attributes: Adam().beta1 == 0.9.
        options = self.__dict__.get("options", {})
        if name in options:
            return options[name]
        raise AttributeError(f"{type(self).__name__!s} has no attribute {name!r}")


Params = Union[Sequence[np.ndarray], Mapping[str, np.ndarray]]


class OptimizerState:
    """An optimiser's state for one set of parameters (from `Optimizer.init`), advanced by
    `Optimizer.update`."""

    def __init__(self, handle: Any, shapes: List[Tuple[int, ...]]):
        self._handle = handle
        self.shapes = shapes

    def values(self) -> Optional[Tuple[np.ndarray, int]]:
        """The state as (float32 values, step count), or None before the first update: what
        `load` restores (moments, a learned optimiser's recurrent states, ...)."""
        try:
            return self._handle.get_state()
        except _l2l.StateError:
            return None

    def load(self, values: Any, step: int) -> None:
        """Replaces the state with `values` and `step` from `values()` of a state of the same
        optimiser and shapes (ShapeError otherwise); the next update continues exactly."""
        self._handle.set_state([list(s) for s in self.shapes], as_inputs(values).reshape(-1), int(step))

    def __repr__(self) -> str:
        return f"<l2l.optim.OptimizerState for shapes {self.shapes}>"


def _named(params: Any, convert: bool = True) -> Tuple[Optional[List[str]], List[np.ndarray]]:
    """(keys or None, arrays) of a list, tuple or dict of arrays (float32 copies only where
    needed when `convert`)."""
    if isinstance(params, Mapping):
        names: Optional[List[str]] = list(params.keys())
        values = list(params.values())
    elif isinstance(params, (list, tuple)):
        names, values = None, list(params)
    else:
        raise _l2l.InvalidArgumentError(f"params must be a list, tuple or dict of arrays, got {type(params).__name__}")
    return names, [as_inputs(v) if convert else v for v in values]


class SGD(Optimizer):
    """Stochastic gradient descent ("sgd"), PyTorch's formulation: with velocity v from 0,
    v <- momentum*v + g, theta <- theta - lr*v, or with `nesterov`
    theta <- theta - lr*(g + momentum*v). Momentum in [0, 1); nesterov needs momentum > 0."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.0, nesterov: bool = False):
        super().__init__("sgd", lr=float(lr), momentum=float(momentum), nesterov=bool(nesterov))


class Momentum(Optimizer):
    """SGD with heavy-ball momentum ("momentum"): v <- momentum*v + g, theta <- theta - lr*v."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__("momentum", lr=float(lr), momentum=float(momentum))


class Nesterov(Optimizer):
    """SGD with Nesterov momentum ("nesterov"): v <- momentum*v + g,
    theta <- theta - lr*(g + momentum*v)."""

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__("nesterov", lr=float(lr), momentum=float(momentum))


class Adam(Optimizer):
    """Adam with bias correction ("adam"). By default eps goes inside the square root,
    theta <- theta - lr*m^/sqrt(v^ + eps^2), whose derivative stays finite where v^ = 0
    (meta-gradients through the step); `eps_inside=False` gives the paper's
    theta <- theta - lr*m^/(sqrt(v^) + eps). beta1, beta2 in [0, 1), eps > 0."""

    def __init__(self, lr: float = 1e-3, beta1: float = 0.9, beta2: float = 0.999, eps: float = 1e-8,
                 eps_inside: bool = True):
        super().__init__("adam", lr=float(lr), beta1=float(beta1), beta2=float(beta2), eps=float(eps),
                         eps_inside=bool(eps_inside))


class RMSprop(Optimizer):
    """RMSprop ("rmsprop"), PyTorch's formulation: v <- alpha*v + (1-alpha)*g^2,
    d = g/(sqrt(v) + eps) (centered: sqrt(v - g_avg^2) with g_avg the moving average of g),
    theta <- theta - lr*d, or with momentum b <- momentum*b + d, theta <- theta - lr*b."""

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8, momentum: float = 0.0,
                 centered: bool = False):
        super().__init__("rmsprop", lr=float(lr), alpha=float(alpha), eps=float(eps), momentum=float(momentum),
                         centered=bool(centered))


class Adagrad(Optimizer):
    """Adagrad ("adagrad"), PyTorch's formulation: s <- s + g^2 (s starts at
    initial_accumulator), theta <- theta - lr/(1 + (t-1)*lr_decay) * g/(sqrt(s) + eps)."""

    def __init__(self, lr: float = 0.01, lr_decay: float = 0.0, initial_accumulator: float = 0.0,
                 eps: float = 1e-10):
        super().__init__("adagrad", lr=float(lr), lr_decay=float(lr_decay),
                         initial_accumulator=float(initial_accumulator), eps=float(eps))


class SMORMS3(Optimizer):
    """Simon Funk's SMORMS3 ("smorms3"), per coordinate with mem from 1 and averages from 0:
    r = 1/(mem+1); g_avg <- (1-r)*g_avg + r*g; g2_avg <- (1-r)*g2_avg + r*g^2;
    x = g_avg^2/(g2_avg + eps); theta <- theta - min(lr, x)*g/(sqrt(g2_avg) + eps);
    mem <- 1 + mem*(1 - x)."""

    def __init__(self, lr: float = 1e-3, eps: float = 1e-16):
        super().__init__("smorms3", lr=float(lr), eps=float(eps))



class _HessianFree(Optimizer):
    """Shared by HFFixed and HFLM: the C option `lambda` is a Python keyword, so it is
    `damping` here (and in `options`, repr and attributes)."""

    def __init__(self, kind: str, damping: float, **options: Any):
        super().__init__(kind, **{"lambda": float(damping)}, **options)
        self.options = {"damping": float(damping), **options}


class HFFixed(_HessianFree):
    """Hessian-free with a fixed damping ("hf_fixed"; Martens 2010, the MLHF paper's
    HF(Fixed)). Each step builds the Gauss-Newton model G = J^T H_L J of the batch, solves
    (G + damping I) d = g by conjugate gradient (at most `cg_iters` products, tolerance
    `tol` on the residual norm, starting from `warm_start` times the previous solution) and
    sets theta <- theta - lr*d. A step costs about 1 + cg_iters gradient evaluations (a
    Gauss-Newton product costs about one).

    Where G is near zero the step is about lr*g/damping: damping 0.01-0.1 at lr 1
    overshoots and can kill the learner; damping 1 is stable (the default)."""

    def __init__(self, lr: float = 0.5, damping: float = 1.0, cg_iters: int = 10, tol: float = 1e-5,
                 warm_start: float = 0.95):
        super().__init__("hf_fixed", damping, lr=float(lr), cg_iters=int(cg_iters), tol=float(tol),
                         warm_start=float(warm_start))


class HFLM(_HessianFree):
    """Hessian-free with Levenberg-Marquardt damping ("hf_lm", the MLHF paper's HF(LM)):
    as HFFixed, with rho = (L(theta_new) - L(theta)) / q and
    q = -lr<g,d> + lr^2/2 <d,(G + damping I)d>; damping /= decay if rho < 0.25,
    damping *= decay if rho > 0.75, clipped to [lambda_min, lambda_max]. `damping` is the
    initial value; decay in (0, 1). `rho="next"` (default) measures both losses on the next
    batch; `rho="same"` on the batch the step was solved on (Martens; the authors' code),
    which on small batches lets the damping fall too far and the learner diverge."""

    def __init__(self, lr: float = 0.5, damping: float = 0.3, decay: float = 2.0 / 3.0, lambda_min: float = 1e-3,
                 lambda_max: float = 1.0, rho: str = "next", cg_iters: int = 10, tol: float = 1e-5,
                 warm_start: float = 0.95):
        super().__init__("hf_lm", damping, lr=float(lr), decay=float(decay), lambda_min=float(lambda_min),
                         lambda_max=float(lambda_max), rho=str(rho), cg_iters=int(cg_iters), tol=float(tol),
                         warm_start=float(warm_start))
