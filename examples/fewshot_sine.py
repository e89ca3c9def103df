"""The sine benchmark of MAML and Meta-SGD (Table 1 of Li et al., 2017; MAML §5.1).

Tasks y = A sin(x - phase), A in [0.1, 5], phase in [0, pi], x in [-5, 5]; the 1-40-40-1 ReLU
regressor; one inner gradient step (inner lr 0.01; Meta-SGD learns its own rates, starting
there); meta-batch 25; Adam 1e-3. Each method is meta-trained at 5, 10 and 20 shots and each
model is evaluated on fresh tasks at 5, 10 and 20 shots: the mean squared error on 100
evenly spaced points after one adaptation step, mean +- 95 % interval. Beside MAML, FOMAML
and Meta-SGD: a net pretrained on all tasks (Adam on pooled points of many tasks), then
fine-tuned with the same one step. The figure shows one 5-shot task (like the paper's
Figure 3): initialisation (dotted), adapted curve (solid), ground truth and the K points.

    python3 examples/fewshot_sine.py [--iterations 15000] [--eval-tasks 600] [--figure sine.png]

The papers ran 70 000 meta-iterations; the default of 15 000 per model (9 models, about 3 ms
per MAML or Meta-SGD iteration here) keeps the whole run near 10 minutes on 2 cores, so the
figures are those of shorter meta-training than the paper's.
"""
import argparse
import time

import numpy as np

import l2l
from l2l import fewshot

SHOTS = (5, 10, 20)
#: Table 1 of the lecture (from Li et al., 2017): rows K-shot training, columns 5/10/20-shot testing.
PAPER = {
    ("maml", 5): (1.13, 0.85, 0.71), ("meta_sgd", 5): (0.90, 0.63, 0.50),
    ("maml", 10): (1.17, 0.77, 0.56), ("meta_sgd", 10): (0.88, 0.53, 0.35),
    ("maml", 20): (1.29, 0.76, 0.48), ("meta_sgd", 20): (1.01, 0.54, 0.31),
}
NAMES = {"maml": "MAML", "fomaml": "FOMAML", "meta_sgd": "Meta-SGD", "pretrained": "pretrained"}


def regressor(seed):
    return l2l.MLP([1, 40, 40, 1], objective="mse", seed=seed)


def make(method, net, args):
    if method == "meta_sgd":
        return fewshot.MetaSGD(net, inner_lr=args.inner_lr, meta_lr=args.meta_lr, seed=args.seed)
    return fewshot.MAML(net, inner_lr=args.inner_lr, first_order=method == "fomaml", meta_lr=args.meta_lr, seed=args.seed)


def pretrained(args):
    """A net trained with Adam on points of many tasks pooled together, as a MAML whose
    initialisation is that net (so it is fine-tuned and scored exactly like the others)."""
    data = l2l.datasets.sine_tasks(args.pretrain_tasks, k=20, seed=args.seed + 1)
    pooled = l2l.Dataset.from_arrays(data["x"].reshape(-1, 1), data["y"].reshape(-1, 1))
    net = regressor(args.seed)
    l2l.train(net, l2l.Adam(lr=1e-3), pooled, steps=args.iterations, batch_size=250, seed=args.seed)
    return fewshot.MAML(net, inner_lr=args.inner_lr)


def cell(mean, interval):
    return f"{mean:5.2f} ± {interval:4.2f}"


def figure(models, path, seed):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    task = l2l.datasets.sine_tasks(1, k=5, seed=seed)
    x, y = task["x"][0], task["y"][0]
    grid = np.linspace(-5, 5, 200, dtype=np.float32)[:, None]
    truth = task["amplitude"][0] * np.sin(grid - task["phase"][0])
    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.plot(grid, truth, color="black", lw=2, label="ground truth")
    ax.scatter(x, y, color="black", marker="^", s=60, zorder=5, label="5 points")
    for (name, model), colour in zip(models.items(), ("tab:blue", "tab:red", "tab:green")):
        ax.plot(grid, model.initialization().forward(grid), ls=":", color=colour, label=f"{name} initialisation")
        ax.plot(grid, model.adapt(x, y).forward(grid), color=colour, label=f"{name} after 1 step")
    ax.set(xlabel="x", ylabel="y", title="5-shot sine regression (5-shot meta-training)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--iterations", type=int, default=15000, help="meta-iterations per model (paper: 70000)")
    parser.add_argument("--methods", default="maml,fomaml,meta_sgd")
    parser.add_argument("--meta-batch", type=int, default=25)
    parser.add_argument("--inner-lr", type=float, default=0.01)
    parser.add_argument("--meta-lr", type=float, default=1e-3)
    parser.add_argument("--eval-tasks", type=int, default=600)
    parser.add_argument("--pretrain-tasks", type=int, default=10000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--figure", default="fewshot_sine.png", help="output image ('' for none)")
    parser.add_argument("--progress", action="store_true")
    args = parser.parse_args()

    tasks = fewshot.SineTasks()
    rows, five_shot = [], {}
    started = time.time()
    for method in args.methods.split(","):
        for k in SHOTS:
            t = time.time()
            model = make(method, regressor(args.seed), args)
            losses = model.fit(tasks, meta_iterations=args.iterations, meta_batch=args.meta_batch, shots=k,
                               progress=args.progress)
            ev = model.evaluate(tasks, shots=SHOTS, num_tasks=args.eval_tasks, seed=args.seed + 1000)
            rows.append((method, k, ev))
            print(f"{NAMES[method]:9s} {k:2d}-shot training: {args.iterations} iterations in {time.time() - t:5.1f} s, "
                  f"last meta-loss {losses[-100:].mean():.3f}", flush=True)
            if k == 5:
                five_shot[NAMES[method]] = model
    t = time.time()
    ev = pretrained(args).evaluate(tasks, shots=SHOTS, num_tasks=args.eval_tasks, seed=args.seed + 1000)
    rows.append(("pretrained", None, ev))
    print(f"pretrained on {args.pretrain_tasks} tasks ({args.iterations} Adam steps) in {time.time() - t:5.1f} s", flush=True)

    print(f"\nMSE after one adaptation step on {args.eval_tasks} fresh tasks, mean ± 95 % interval "
          f"({args.iterations} meta-iterations; the paper ran 70000); [paper's Table 1]")
    print(f"{'training':>9s}  {'model':10s} " + "  ".join(f"{k:>2d}-shot testing      " for k in SHOTS))
    for method, k, ev in rows:
        paper = PAPER.get((method, k))
        cells = [cell(m, i) + (f" [{paper[j]:.2f}]" if paper else "       ")
                 for j, (m, i) in enumerate(zip(ev.means, ev.intervals))]
        print(f"{(f'{k}-shot' if k else 'all'):>9s}  {NAMES[method]:10s} " + "  ".join(cells))
    print(f"\ntotal {time.time() - started:.0f} s")
    if args.figure and five_shot:
        figure({n: five_shot[n] for n in ("MAML", "Meta-SGD") if n in five_shot} or five_shot, args.figure, args.seed + 7)
        print(f"figure: {args.figure}")


if __name__ == "__main__":
    main()
