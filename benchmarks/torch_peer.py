"""The PyTorch peer of l2l's speed benchmarks: the same computations, written from the
formulas in idiomatic PyTorch CPU code on 2 threads, and the side-by-side table.

    python3 benchmarks/torch_peer.py [--l2l DIR] [--meta-steps N] [--test-steps N] [--repeats N] [--steps N] [--json]

scripts/bench.sh runs it after `l2l-bench --only KIND --json` has written DIR/KIND.json for
each KIND below; with --l2l it prints l2l and PyTorch side by side with their ratio.
PyTorch is needed here only (scripts/bench.sh installs it in a venv of its own).

What is measured (the 784-32-10 ReLU MLP at batch 128 on Fashion-MNIST throughout; l2l's
side is Sources/L2LBench/main.swift):
  B1 lstm     LSTM-optimiser meta-training, learner steps/s: Andrychowicz et al.'s
              coordinate-wise 2×20 LSTM (torch.nn.LSTMCell) with a linear head, Δ = 0.1·head(h),
              on the preprocessed gradient (log|g|/p, sign g) or (−1, e^p g), p = 10;
              unroll 5, meta-loss = sum of the learner's losses after each update on the
              next batch, first order (the learner's gradient detached), Adam (1e-3) on φ,
              θ and the LSTM state detached between unrolls. A warm-up trial, then the best
              of --repeats timed trials of --meta-steps learner steps.
  B2 dmsgd    the same for Dynamic Meta-SGD: one 20-unit LSTM layer, β = ReLU(β_static +
              tanh(h·U_β)) per coordinate, θ ← θ − β ⊙ g.
  B3 lstm     LSTM-optimiser meta-testing steps/s: the meta-trained optimiser training a
              fresh MLP (forward, backward, optimiser step without a graph) on one fixed batch.
  B4 adam     Adam (1e-3) training steps/s of the MLP (torch.optim.Adam), one fixed batch.
  B5 hf       Hessian-free steps/s: the gradient, 4 conjugate-gradient iterations on
              (G + I)·d = g with Gauss-Newton products G·v = Jᵀ H_L J v (torch.func.jvp and
              vjp), θ ← θ − 0.5·d.
  B6 lstm_forward  one LSTM-optimiser step without a graph over the MLP's 25,450
              coordinates (preprocessing, LSTM, head, update), in ms and in % of the sgemm peak.
  sgemm       peak GFLOP/s of square float32 products n = 256…2048: PyTorch (its BLAS) and
              numpy (numpy's own OpenBLAS, the reference of l2l's ≥ 80 % goal).
"""
import argparse
import gzip
import json
import math
import os
import time
import warnings
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

torch.set_num_threads(2)
warnings.filterwarnings("ignore", message=".*torch.jit.script.* is deprecated")   # said by torch.func's import
FASHION = Path(os.environ.get("L2L_DATA", "/usr/share/datasets/fashion-mnist"))
SIZES = [784, 32, 10]
BATCH = 128
P = 10.0   # the gradient preprocessing's p


# MARK: data and the learner

def fashion_mnist():
    """Training images scaled to [0, 1] as float32 [60000, 784], and int64 labels."""
    with gzip.open(FASHION / "train-images-idx3-ubyte.gz") as f:
        images = np.frombuffer(f.read(), np.uint8, offset=16).reshape(-1, 784)
    with gzip.open(FASHION / "train-labels-idx1-ubyte.gz") as f:
        labels = np.frombuffer(f.read(), np.uint8, offset=8)
    return torch.from_numpy(images.astype(np.float32) / 255), torch.from_numpy(labels.astype(np.int64))


def init_mlp(generator):
    """[W0, b0, W1, b1] of the MLP, W as [in, out], all U(±1/√fan_in) (PyTorch's default)."""
    params = []
    for fan_in, fan_out in zip(SIZES, SIZES[1:]):
        bound = 1 / math.sqrt(fan_in)
        params += [torch.empty(fan_in, fan_out).uniform_(-bound, bound, generator=generator),
                   torch.empty(fan_out).uniform_(-bound, bound, generator=generator)]
    return params


def mlp(params, x):
    """Logits of the ReLU MLP."""
    w0, b0, w1, b1 = params
    return torch.relu(x @ w0 + b0) @ w1 + b1


class Batches:
    """Mini-batches of 128 drawn without replacement, reshuffled every epoch."""

    def __init__(self, data, generator):
        self.x, self.y = data
        self.generator = generator
        self.order, self.at = torch.randperm(len(self.y), generator=generator), 0

    def next(self):
        if self.at + BATCH > len(self.order):
            self.order, self.at = torch.randperm(len(self.y), generator=self.generator), 0
        idx = self.order[self.at:self.at + BATCH]
        self.at += BATCH
        return self.x[idx], self.y[idx]


# MARK: learned optimisers

def preprocess(g):
    """[P, 2] features of the gradient coordinates g [P]."""
    big = g.abs() >= math.exp(-P)
    log_feature = torch.where(big, g.abs().clamp_min(1e-38).log() / P, torch.full_like(g, -1.0))
    sign_feature = torch.where(big, g.sign(), g * math.exp(P))
    return torch.stack([log_feature, sign_feature], dim=1)


def lstm_cell(input_size, hidden):
    """torch.nn.LSTMCell with the forget gates' bias at +1 (gate order i, f, g, o)."""
    cell = nn.LSTMCell(input_size, hidden)
    with torch.no_grad():
        cell.bias_ih[hidden:2 * hidden] += 1
    return cell


class LSTMOptimiser(nn.Module):
    """Andrychowicz et al.'s optimiser: 2×20 coordinate-wise LSTM and a linear head, Δ = 0.1·head(h)."""

    def __init__(self):
        super().__init__()
        self.cells = nn.ModuleList([lstm_cell(2, 20), lstm_cell(20, 20)])
        self.head = nn.Linear(20, 1)
        with torch.no_grad():
            self.head.weight.uniform_(-0.01, 0.01)
            self.head.bias.zero_()

    def initial_state(self, coordinates):
        return [torch.zeros(coordinates, 20) for _ in range(4)]

    def forward(self, theta, grads, state):
        """θ', state' from θ, its gradient and the LSTM state (lists of tensors)."""
        x = preprocess(torch.cat([g.reshape(-1) for g in grads]))
        h0, c0 = self.cells[0](x, (state[0], state[1]))
        h1, c1 = self.cells[1](h0, (state[2], state[3]))
        delta = (0.1 * self.head(h1)).squeeze(1)
        return unflatten_add(theta, delta), [h0, c0, h1, c1]


class DMSGD(nn.Module):
    """Dynamic Meta-SGD: β = ReLU(β_static + tanh(h·U_β)), θ ← θ − β ⊙ g, one 20-unit LSTM."""

    def __init__(self, coordinates):
        super().__init__()
        self.cell = lstm_cell(2, 20)
        self.u_beta = nn.Parameter(torch.zeros(20, 1))
        self.beta_static = nn.Parameter(torch.full((coordinates,), 1e-3))

    def initial_state(self, coordinates):
        return [torch.zeros(coordinates, 20) for _ in range(2)]

    def forward(self, theta, grads, state):
        g = torch.cat([g.reshape(-1) for g in grads])
        h, c = self.cell(preprocess(g), (state[0], state[1]))
        beta = torch.relu(self.beta_static + torch.tanh(h @ self.u_beta).squeeze(1))
        return unflatten_add(theta, -beta * g), [h, c]


def unflatten_add(theta, delta):
    """θ + Δ with Δ a flat vector over θ's tensors."""
    out, at = [], 0
    for t in theta:
        out.append(t + delta[at:at + t.numel()].view_as(t))
        at += t.numel()
    return out


def meta_train_speed(make_optimiser, data, meta_steps, test_steps, repeats):
    """Learner steps/s of meta-training (the best of `repeats` timed trials after a warm-up
    trial) and of meta-testing (the best of `repeats` runs of `test_steps`)."""
    generator = torch.Generator().manual_seed(0)
    torch.manual_seed(0)
    coordinates = sum(t.numel() for t in init_mlp(generator))
    opt = make_optimiser(coordinates)
    meta_opt = torch.optim.Adam(opt.parameters(), lr=1e-3)
    batches = Batches(data, generator)

    def trial():
        theta = init_mlp(generator)
        state = opt.initial_state(coordinates)
        x, y = batches.next()
        for _ in range(meta_steps // 5):
            meta_loss = 0
            for _ in range(5):
                point = [t.detach().requires_grad_() for t in theta]
                grads = torch.autograd.grad(F.cross_entropy(mlp(point, x), y), point)   # first order
                theta, state = opt(theta, grads, state)
                x, y = batches.next()
                meta_loss = meta_loss + F.cross_entropy(mlp(theta, x), y)
            if math.isfinite(meta_loss.item()):
                meta_opt.zero_grad()
                meta_loss.backward()
                meta_opt.step()
            theta = [t.detach() for t in theta]
            state = [s.detach() for s in state]

    trial()   # warm-up
    meta_train = meta_steps / best_time(trial, repeats)

    # Meta-testing: the trained optimiser on a fresh learner, one fixed batch.
    x, y = data[0][:BATCH], data[1][:BATCH]
    theta = [t.requires_grad_() for t in init_mlp(generator)]
    state = opt.initial_state(coordinates)

    def step():
        nonlocal theta, state
        grads = torch.autograd.grad(F.cross_entropy(mlp(theta, x), y), theta)
        with torch.no_grad():
            theta, state = opt(theta, grads, state)
        theta = [t.requires_grad_() for t in theta]

    for _ in range(3):
        step()
    return meta_train, test_steps / best_time(lambda: [step() for _ in range(test_steps)], repeats)


# MARK: the other measurements

def best_time(body, repeats):
    best = math.inf
    for _ in range(repeats):
        t0 = time.perf_counter()
        body()
        best = min(best, time.perf_counter() - t0)
    return best


def adam_speed(steps):
    """Adam training steps/s of the MLP (nn.Sequential, torch.optim.Adam) on one fixed random batch."""
    torch.manual_seed(1)
    model = nn.Sequential(nn.Linear(784, 32), nn.ReLU(), nn.Linear(32, 10))
    adam = torch.optim.Adam(model.parameters(), lr=1e-3)
    x, y = torch.randn(BATCH, 784), torch.randint(0, 10, (BATCH,))

    def run(n):
        for _ in range(n):
            adam.zero_grad()
            F.cross_entropy(model(x), y).backward()
            adam.step()

    run(max(2, steps // 20))
    return steps / best_time(lambda: run(steps), 3)


def hessian_free_speed(data):
    """Hessian-free steps/s: gradient, 4 CG iterations on (G + I)·d = g, θ ← θ − 0.5·d."""
    x, y = data[0][:BATCH], data[1][:BATCH]
    theta = init_mlp(torch.Generator().manual_seed(1))

    def logits(*params):
        return mlp(params, x)

    def step():
        nonlocal theta
        z, vjp = torch.func.vjp(logits, *theta)
        s = torch.softmax(z, dim=1)
        g = vjp((s - F.one_hot(y, 10)) / BATCH)   # ∂L/∂θ = Jᵀ ∂L/∂z

        def damped_gauss_newton(v):   # (Jᵀ H_L J + I)·v, H_L = (diag(s) − s sᵀ)/n
            _, jv = torch.func.jvp(logits, tuple(theta), tuple(v))
            sjv = s * jv
            return [a + b for a, b in zip(vjp((sjv - s * sjv.sum(1, keepdim=True)) / BATCH), v)]

        d = [torch.zeros_like(t) for t in theta]
        r = list(g)
        p = list(r)
        rr = sum((a * a).sum() for a in r)
        for _ in range(4):
            ap = damped_gauss_newton(p)
            alpha = rr / sum((a * b).sum() for a, b in zip(p, ap))
            d = [a + alpha * b for a, b in zip(d, p)]
            r = [a - alpha * b for a, b in zip(r, ap)]
            rr_next = sum((a * a).sum() for a in r)
            p = [a + (rr_next / rr) * b for a, b in zip(r, p)]
            rr = rr_next
        theta = [t - 0.5 * a for t, a in zip(theta, d)]

    for _ in range(3):
        step()
    return 20 / best_time(lambda: [step() for _ in range(20)], 3)


def lstm_forward_ms():
    """ms of one LSTM-optimiser step without a graph over the MLP's 25,450 coordinates."""
    torch.manual_seed(4)
    generator = torch.Generator().manual_seed(4)
    theta = init_mlp(generator)
    grads = [torch.randn(t.shape, generator=generator) * 1e-3 for t in theta]
    opt = LSTMOptimiser()
    state = opt.initial_state(sum(t.numel() for t in theta))
    with torch.no_grad():
        opt(theta, grads, state)
        return 1e3 * best_time(lambda: opt(theta, grads, state), 20)


def sgemm_peak(matmul, make):
    """Peak GFLOP/s of square float32 products n = 256…2048 (best of a few per size)."""
    peak = 0.0
    for n in (256, 512, 1024, 2048):
        a, b = make(n), make(n)
        matmul(a, b)
        peak = max(peak, 2 * n ** 3 / best_time(lambda: matmul(a, b), 3 if n >= 2048 else 10) / 1e9)
    return peak


def numpy_blas():
    """numpy's BLAS as threadpoolctl reports it (name, version, kernel), or as numpy was built."""
    try:
        from threadpoolctl import threadpool_info
        for lib in threadpool_info():
            if lib.get("user_api") == "blas" and "numpy" in lib.get("filepath", ""):
                return f"{lib['internal_api']} {lib['version']}, {lib.get('architecture', '?')} kernels"
    except ImportError:
        pass
    blas = np.show_config(mode="dicts")["Build Dependencies"]["blas"]
    return f"{blas['name']} {blas['version']}"


# MARK: the table

def table(torch_figures, l2l_dir):
    def load(kind):
        path = Path(l2l_dir) / f"{kind}.json"
        return json.loads(path.read_text()) if path.exists() else {}

    l2l = {kind: load(kind) for kind in ("sgemm", "lstm", "dmsgd", "adam", "hf", "lstm_forward")}
    peak = l2l["sgemm"].get("sgemm_peak_gflops", math.nan)
    flops = l2l["lstm_forward"].get("lstm_forward_flops", math.nan)
    rows = [
        ("B1 LSTM-optimiser meta-training, learner steps/s", "lstm", "meta_train_steps_per_second", "lstm_meta_train"),
        ("B2 DMSGD meta-training, learner steps/s", "dmsgd", "meta_train_steps_per_second", "dmsgd_meta_train"),
        ("B3 LSTM-optimiser meta-testing, steps/s", "lstm", "meta_test_steps_per_second", "lstm_meta_test"),
        ("B4 Adam training, steps/s", "adam", "adam_steps_per_second", "adam"),
        ("B5 Hessian-free (gradient + 4 G·v + CG), steps/s", "hf", "hf_steps_per_second", "hf"),
    ]
    print(f"{'MLP 784-32-10, batch 128, Fashion-MNIST':52s} {'l2l':>9s} {'PyTorch':>9s} {'l2l/PyTorch':>12s} {'l2l peak RSS':>13s}")
    for name, kind, key, peer in rows:
        mine, theirs = l2l[kind].get(key, math.nan), torch_figures[peer]
        rss = l2l[kind].get("max_rss_mib", math.nan)
        print(f"{name:52s} {mine:9.1f} {theirs:9.1f} {mine / theirs:11.2f}× {rss:9.0f} MiB")
    mine, theirs = l2l["lstm_forward"].get("lstm_forward_ms", math.nan), torch_figures["lstm_forward_ms"]
    rss = l2l["lstm_forward"].get("max_rss_mib", math.nan)
    print(f"{'B6 LSTM forward, 25,450 coordinates, ms':52s} {mine:9.2f} {theirs:9.2f} {theirs / mine:11.2f}× {rss:9.0f} MiB")
    percent = lambda ms: 100 * flops / (ms * 1e-3) / 1e9 / peak
    print(f"{'   in % of l2l sgemm peak (' + format(flops / 1e6, '.1f') + ' MFLOP)':52s} {percent(mine):8.1f}% {percent(theirs):8.1f}%")
    info = l2l["sgemm"]
    blas = f"{info.get('blas', '?')} {info.get('blas_version', '?')}, {info.get('blas_core', '?')} kernels"
    print(f"sgemm peak, GFLOP/s: l2l {peak:.1f} ({blas}); numpy {torch_figures['numpy_sgemm_peak']:.1f} "
          f"({torch_figures['numpy_blas']}) -> l2l = {100 * peak / torch_figures['numpy_sgemm_peak']:.0f} % of numpy; "
          f"PyTorch {torch_figures['torch_sgemm_peak']:.1f} ({torch_figures['torch_blas']})")
    forced = {k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ}
    if forced:
        print(f"note: {forced} is set in this environment: numpy's OpenBLAS obeys it, l2l's does not")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--l2l", help="directory of l2l-bench --only KIND --json outputs (KIND.json)")
    parser.add_argument("--meta-steps", type=int, default=50, help="learner steps per meta-training trial (multiple of 5)")
    parser.add_argument("--test-steps", type=int, default=30, help="timed meta-testing steps")
    parser.add_argument("--repeats", type=int, default=1, help="timed trials and meta-testing runs to take the best of")
    parser.add_argument("--steps", type=int, default=2000, help="timed Adam steps")
    parser.add_argument("--json", action="store_true", help="print PyTorch's figures as JSON")
    args = parser.parse_args()

    data = fashion_mnist()
    figures = {}
    figures["lstm_meta_train"], figures["lstm_meta_test"] = meta_train_speed(lambda n: LSTMOptimiser(), data, args.meta_steps, args.test_steps,
                                                                      args.repeats)
    figures["dmsgd_meta_train"], _ = meta_train_speed(DMSGD, data, args.meta_steps, 0, args.repeats)
    figures["adam"] = adam_speed(args.steps)
    figures["hf"] = hessian_free_speed(data)
    figures["lstm_forward_ms"] = lstm_forward_ms()
    figures["torch_sgemm_peak"] = sgemm_peak(torch.mm, lambda n: torch.rand(n, n))
    figures["torch_blas"] = torch.backends.mkl.is_available() and "MKL" or "its BLAS"
    figures["numpy_sgemm_peak"] = sgemm_peak(np.matmul, lambda n: np.random.default_rng(0).random((n, n), dtype=np.float32))
    figures["numpy_blas"] = numpy_blas()
    if args.json:
        print(json.dumps(figures))
    if args.l2l:
        table(figures, args.l2l)
    elif not args.json:
        for key, value in figures.items():
            print(f"{key}: {value:.2f}" if isinstance(value, float) else f"{key}: {value}")


if __name__ == "__main__":
    main()
