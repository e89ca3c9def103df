"""The hand-crafted optimisers through Python: their first steps on a small MLP against
float64 numpy re-implementations of their equations, fed the learner's own gradients."""

import numpy as np
import pytest

import l2l
from l2l import optim


# -- float64 references (written from the update equations) ----------------------------

class RefSGD:
    def __init__(self, lr=0.01, momentum=0.0, nesterov=False):
        self.lr, self.momentum, self.nesterov, self.v = lr, momentum, nesterov, 0.0

    def step(self, theta, g):
        self.v = self.momentum * self.v + g
        d = g + self.momentum * self.v if self.nesterov else self.v
        return theta - self.lr * d


class RefAdam:
    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, eps_inside=True):
        self.lr, self.b1, self.b2, self.eps, self.inside = lr, beta1, beta2, eps, eps_inside
        self.t, self.m, self.v = 0, 0.0, 0.0

    def step(self, theta, g):
        self.t += 1
        self.m = self.b1 * self.m + (1 - self.b1) * g
        self.v = self.b2 * self.v + (1 - self.b2) * g * g
        m_hat = self.m / (1 - self.b1 ** self.t)
        v_hat = self.v / (1 - self.b2 ** self.t)
        den = np.sqrt(v_hat + self.eps ** 2) if self.inside else np.sqrt(v_hat) + self.eps
        return theta - self.lr * m_hat / den


class RefRMSprop:
    def __init__(self, lr=0.01, alpha=0.99, eps=1e-8, momentum=0.0, centered=False):
        self.lr, self.alpha, self.eps, self.momentum, self.centered = lr, alpha, eps, momentum, centered
        self.sq, self.avg, self.buf = 0.0, 0.0, 0.0

    def step(self, theta, g):
        self.sq = self.alpha * self.sq + (1 - self.alpha) * g * g
        s = self.sq
        if self.centered:
            self.avg = self.alpha * self.avg + (1 - self.alpha) * g
            s = np.maximum(s - self.avg ** 2, 0.0)
        d = g / (np.sqrt(s) + self.eps)
        if self.momentum > 0:
            self.buf = self.momentum * self.buf + d
            d = self.buf
        return theta - self.lr * d


class RefAdagrad:
    def __init__(self, lr=0.01, lr_decay=0.0, initial_accumulator=0.0, eps=1e-10):
        self.lr, self.decay, self.eps = lr, lr_decay, eps
        self.t, self.s = 0, initial_accumulator

    def step(self, theta, g):
        self.t += 1
        self.s = self.s + g * g
        return theta - self.lr / (1 + (self.t - 1) * self.decay) * g / (np.sqrt(self.s) + self.eps)


class RefSMORMS3:
    def __init__(self, lr=1e-3, eps=1e-16):
        self.lr, self.eps = lr, eps
        self.mem, self.g, self.g2 = 1.0, 0.0, 0.0

    def step(self, theta, grad):
        r = 1 / (self.mem + 1)
        self.g = (1 - r) * self.g + r * grad
        self.g2 = (1 - r) * self.g2 + r * grad * grad
        x = self.g ** 2 / (self.g2 + self.eps)
        theta = theta - grad * np.minimum(self.lr, x) / (np.sqrt(self.g2) + self.eps)
        self.mem = 1 + self.mem * (1 - x)
        return theta


CASES = [
    ("sgd", lambda: optim.SGD(lr=0.1), lambda: RefSGD(lr=0.1)),
    ("sgd momentum", lambda: optim.SGD(lr=0.1, momentum=0.5), lambda: RefSGD(lr=0.1, momentum=0.5)),
    ("sgd nesterov", lambda: optim.SGD(lr=0.1, momentum=0.5, nesterov=True),
     lambda: RefSGD(lr=0.1, momentum=0.5, nesterov=True)),
    ("momentum", lambda: optim.Momentum(lr=0.05), lambda: RefSGD(lr=0.05, momentum=0.9)),
    ("nesterov", lambda: optim.Nesterov(lr=0.05), lambda: RefSGD(lr=0.05, momentum=0.9, nesterov=True)),
    ("adam", lambda: optim.Adam(), lambda: RefAdam()),
    ("adam textbook", lambda: optim.Adam(lr=0.01, eps=1e-3, eps_inside=False),
     lambda: RefAdam(lr=0.01, eps=1e-3, eps_inside=False)),
    ("adam eps inside", lambda: optim.Adam(lr=0.01, beta1=0.8, beta2=0.9, eps=1e-3),
     lambda: RefAdam(lr=0.01, beta1=0.8, beta2=0.9, eps=1e-3)),
    ("rmsprop", lambda: optim.RMSprop(), lambda: RefRMSprop()),
    ("rmsprop centered momentum", lambda: optim.RMSprop(lr=0.005, alpha=0.9, momentum=0.5, centered=True),
     lambda: RefRMSprop(lr=0.005, alpha=0.9, momentum=0.5, centered=True)),
    ("adagrad", lambda: optim.Adagrad(), lambda: RefAdagrad()),
    ("adagrad decay", lambda: optim.Adagrad(lr=0.05, lr_decay=0.3, initial_accumulator=0.1, eps=1e-6),
     lambda: RefAdagrad(lr=0.05, lr_decay=0.3, initial_accumulator=0.1, eps=1e-6)),
    ("smorms3", lambda: optim.SMORMS3(), lambda: RefSMORMS3()),
    ("smorms3 lr 0.3", lambda: optim.SMORMS3(lr=0.3), lambda: RefSMORMS3(lr=0.3)),
]


def _batches(steps, seed=5):
    rng = np.random.default_rng(seed)
    return [(rng.standard_normal((8, 5)).astype(np.float32), rng.integers(0, 3, size=8)) for _ in range(steps)]


@pytest.mark.parametrize("name,make,reference", CASES, ids=[c[0] for c in CASES])
def test_first_steps_match_float64_reference(name, make, reference):
    net = l2l.MLP([5, 4, 3], seed=7)
    opt, ref = make(), reference()
    theta = net.flat_parameters().astype(np.float64)
    moved = False
    for x, y in _batches(4):
        _, grads = net.loss_and_grad(x, y)
        g = np.concatenate([a.reshape(-1) for a in grads]).astype(np.float64)
        before = net.flat_parameters().astype(np.float64)
        opt.step(net)
        after = net.flat_parameters().astype(np.float64)
        expected = ref.step(theta, g)
        # Parameters: float32 rounding of values of order 1.
        np.testing.assert_allclose(after, expected, rtol=1e-5, atol=1e-6, err_msg=name)
        # The step itself, which a small learning rate would hide in the parameters: exact
        # up to rounding the new parameter (half an ulp) and a few float32 roundings.
        step, expected_step = after - before, expected - theta
        ulp = np.spacing(np.abs(after).astype(np.float32)).astype(np.float64)
        assert np.all(np.abs(step - expected_step) <= ulp + 2e-5 * np.abs(expected_step)), name
        moved = moved or np.abs(expected_step).max() > 1e-4
        theta = expected
    assert moved, f"{name}: the test should move the parameters"


KINDS = [("sgd", optim.SGD), ("momentum", optim.Momentum), ("nesterov", optim.Nesterov), ("adam", optim.Adam),
         ("rmsprop", optim.RMSprop), ("adagrad", optim.Adagrad), ("smorms3", optim.SMORMS3)]


@pytest.mark.parametrize("kind,cls", KINDS, ids=[k for k, _ in KINDS])
def test_python_defaults_are_the_library_defaults(kind, cls):
    # The class passes every option explicitly; the kind with no options uses the Swift
    # defaults. Equal runs, bit for bit, mean equal defaults.
    runs = []
    for opt in (cls(), optim.Optimizer(kind)):
        net = l2l.MLP([5, 4, 3], seed=3)
        for x, y in _batches(3, seed=9):
            net.loss_and_grad(x, y)
            opt.step(net)
        runs.append(net.flat_parameters())
    np.testing.assert_array_equal(runs[0], runs[1])
    assert cls().kind == kind
    assert repr(cls()).startswith(f"l2l.optim.{cls.__name__}(lr=")


@pytest.mark.parametrize("kind", [k for k, _ in KINDS])
def test_unknown_option_is_rejected(kind):
    with pytest.raises(l2l.InvalidArgumentError, match="unknown option bogus"):
        optim.Optimizer(kind, lr=0.1, bogus=1)


@pytest.mark.parametrize("make,message", [
    (lambda: optim.SGD(lr=-1.0), "lr"),
    (lambda: optim.SGD(momentum=1.0), "momentum"),
    (lambda: optim.SGD(nesterov=True), "nesterov needs a momentum"),
    (lambda: optim.Nesterov(momentum=0.0), "nesterov needs a momentum"),
    (lambda: optim.Optimizer("momentum", nesterov=True), "unknown option nesterov"),
    (lambda: optim.Adam(beta1=1.0), "beta1"),
    (lambda: optim.Adam(beta2=1.5), "beta2"),
    (lambda: optim.Adam(eps=0.0), "eps"),
    (lambda: optim.RMSprop(alpha=2.0), "alpha"),
    (lambda: optim.Adagrad(initial_accumulator=-1.0), "initial_accumulator"),
    (lambda: optim.SMORMS3(eps=0.0), "eps"),
    (lambda: optim.Adam(lr=float("nan")), "finite"),
])
def test_out_of_range_values_are_rejected(make, message):
    with pytest.raises(l2l.InvalidArgumentError, match=message):
        make()


def test_hyperparameters_read_back():
    adam = optim.Adam(lr=0.01, eps_inside=False)
    assert (adam.lr, adam.beta1, adam.beta2, adam.eps, adam.eps_inside) == (0.01, 0.9, 0.999, 1e-8, False)
    assert optim.SGD().lr == 0.01 and optim.Momentum().momentum == 0.9
    with pytest.raises(AttributeError):
        adam.gamma
    assert l2l.optim.Adam is optim.Adam


def test_reset_starts_the_state_afresh():
    x, y = _batches(1)[0]
    results = []
    opt = optim.Adam(lr=0.01)
    for _ in range(2):
        net = l2l.MLP([5, 4, 3], seed=1)
        net.loss_and_grad(x, y)
        opt.step(net)
        results.append(net.flat_parameters())
        opt.reset()
    np.testing.assert_array_equal(results[0], results[1])
