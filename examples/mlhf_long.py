"""MLHF's ablation meta-trained long (issue 15, item 4): the paper's four configurations for
--iterations meta-iterations (default 1 000, where `l2l-mlhf-experiments` runs 40 on its
convnet), then the trained MLHF against HF(Fixed), HF(LM) and first-order methods on fresh
learners, per iteration.

    python3 examples/mlhf_long.py [--net mlp|convnet] [--iterations 1000] [--only 1,2,3,4]
        [--test-steps 300] [--learners 2] [--seed 0] [--out examples/out/mlhf_long]

Configurations (MLHF options): 1 no RNN_p, 20 CG (`preconditioner=none cg_iters=20`);
2 no RNN_p, 4 CG; 3 RNN_p, 2 CG (`cg_iters=2`); 4 RNN_p, 4 CG (the default MLHF). Each is
meta-trained by `l2l.mlhf.MLHFTrainer` with T = 10 steps a meta-iteration, batch 128, Adam
1e-3, restarts with probability 0.7 (the library's defaults but the batch), from the same
phi seed. The paper's claims under test: with RNN_p, 4 CG iterations estimate the natural
gradient about as well as 20 plain ones (l_p, lower is better), and 2 are clearly worse;
MLHF is ahead of HF(Fixed) and HF(LM) per iteration.

Printed: l_p averaged over each tenth of meta-training (the curve), mean ||r|| first and
last tenth, and l_p of the untrained and the trained phi on the same held-out unrolls
(`MLHFTrainer.evaluate`, seed --seed + 7). Then every optimiser trains --learners fresh learners
for --test-steps steps on the same batches: MLHF with configuration 4's trained phi and
with its untrained phi (lr 1, no clip, no noise), HF(Fixed), HF(LM) (defaults), Adam and
SGD-momentum (lr 1e-3). Writes history.csv, metatest.json and, if matplotlib is installed,
lp_curve.png under --out.
"""
import argparse
import json
import os
import time

import numpy as np

import l2l

CONFIGURATIONS = {
    "1": ("1: no RNN_p, 20 CG", {"preconditioner": "none", "cg_iters": 20}),
    "2": ("2: no RNN_p, 4 CG", {"preconditioner": "none", "cg_iters": 4}),
    "3": ("3: RNN_p, 2 CG", {"cg_iters": 2}),
    "4": ("4: RNN_p, 4 CG", {"cg_iters": 4}),
}


def make_net(kind, seed):
    if kind == "mlp":
        return l2l.learners.MLP([784, 32, 10], seed=seed)
    # The convnet of l2l-mlhf-experiments: conv 5x5 8 -> pool -> conv 5x5 16 -> pool -> 32 -> 10.
    return l2l.learners.Convnet(channels=(8, 16), hidden=(32,), seed=seed)


def tenths(values):
    """Means over each tenth of `values` (fewer parts when there are fewer than ten),
    skipping NaN (an iteration whose update was skipped records NaN)."""
    parts = np.array_split(np.asarray(values, dtype=np.float64), min(10, len(values)))
    return [float(np.nanmean(p)) if np.isfinite(p).any() else float("nan") for p in parts]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--net", default="mlp", choices=["mlp", "convnet"], help="the learner (default: the 784-32-10 MLP)")
    parser.add_argument("--iterations", type=int, default=1000, help="meta-iterations per configuration (default 1000)")
    parser.add_argument("--only", default="1,2,3,4", help="configurations to run (default 1,2,3,4)")
    parser.add_argument("--test-steps", type=int, default=300, help="steps of every fresh learner (default 300)")
    parser.add_argument("--learners", type=int, default=2, help="fresh learners per optimiser (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="phi's and the meta-training's seed (default 0)")
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="examples/out/mlhf_long")
    args = parser.parse_args()
    only = list(dict.fromkeys(c.strip() for c in args.only.split(",") if c.strip()))
    unknown = [c for c in only if c not in CONFIGURATIONS]
    if unknown or not only:
        parser.error(f"--only takes some of 1,2,3,4, got {args.only!r}")
    if min(args.iterations, args.test_steps, args.learners) < 1:
        parser.error("--iterations, --test-steps and --learners must be positive")
    heldout = args.seed + 7   # evaluate()'s seed: never the meta-training's
    os.makedirs(args.out, exist_ok=True)

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)
    net = make_net(args.net, args.seed)
    info = l2l.build_info()
    print(f"MLHF ablation on Fashion-MNIST, {args.net} ({net.num_params} weights), {args.iterations} meta-iterations "
          f"x T = 10, batch 128; {info['kernels']} kernels, {info['blas']} {info['blas_version']} ({info['blas_core']})")

    histories, summary, trained = {}, {}, {}
    print("configuration         l_p per tenth of meta-training" + " " * 40 + "mean ||r|| first->last   held-out l_p before->after   s")
    for key in only:
        name, options = CONFIGURATIONS[key]
        mlhf = l2l.mlhf.MLHF(seed=args.seed, **options)
        trainer = l2l.mlhf.MLHFTrainer(mlhf, net, train, iterations=args.iterations, unroll=10, batch=128,
                                       seed=args.seed)
        before = trainer.evaluate(unrolls=4, seed=heldout)
        start = time.perf_counter()
        history = trainer.run()
        seconds = time.perf_counter() - start
        after = trainer.evaluate(unrolls=4, seed=heldout)
        curve, residual = tenths(history["l_p"]), tenths(history["residual"])
        histories[key] = history
        trained[key] = (mlhf, trainer.mlhf())
        summary[name] = {"lp_tenths": curve, "residual_tenths": residual, "heldout_lp_before": before["l_p"],
                         "heldout_lp_after": after["l_p"], "seconds": seconds, "events": len(trainer.events),
                         "options": trainer.options_text}
        print(f"{name:21s} " + " ".join(f"{v:7.3f}" for v in curve)
              + f"   {residual[0]:8.4f} -> {residual[-1]:8.4f}   {before['l_p']:8.4f} -> {after['l_p']:8.4f}   {seconds:5.0f}"
              + (f"  ({len(trainer.events)} skipped updates)" if trainer.events else ""))

    def save(results):
        with open(os.path.join(args.out, "metatest.json"), "w") as f:
            json.dump({"net": args.net, "iterations": args.iterations, "build": info, "ablation": summary,
                       "metatest": results}, f, indent=1)

    save({})   # the ablation is kept even if the meta-test stops
    with open(os.path.join(args.out, "history.csv"), "w") as f:
        f.write("configuration,iteration," + ",".join(l2l.mlhf.HISTORY_DTYPE.names) + "\n")
        for key, history in histories.items():
            for i, row in enumerate(history):
                f.write(f"{key},{i}," + ",".join(f"{float(v):.6g}" for v in row) + "\n")

    runs = [("SGD momentum (lr 1e-3, 0.9)", lambda: l2l.optim.Momentum(lr=1e-3, momentum=0.9)),
            ("Adam (lr 1e-3)", lambda: l2l.optim.Adam(lr=1e-3)),
            ("HF(Fixed) (defaults)", lambda: l2l.optim.HFFixed()),
            ("HF(LM) (defaults)", lambda: l2l.optim.HFLM())]
    if "4" in trained:
        untrained, mlhf = trained["4"]
        runs += [("MLHF 4 CG, untrained phi", lambda: untrained.as_optimizer(net)),
                 ("MLHF 4 CG, trained phi", lambda: mlhf.as_optimizer(net))]
    else:
        print("\n(configuration 4 was not meta-trained: the meta-test has no MLHF)")
    print(f"\nMeta-test: {args.learners} fresh learners x {args.test_steps} steps, batch 128 (the same for every optimiser)")
    print("optimiser                      training loss, steps 1-10 / last 10 %   test accuracy     s/step")
    results = {}
    for name, make in runs:
        r = l2l.meta.meta_test(make(), net, train, test, learners=args.learners, steps=args.test_steps, seed=2)
        curve = r.mean_training_loss()
        acc, std = r.final_accuracy()
        last = max(1, len(curve) // 10)
        results[name] = {"early_loss": float(curve[:10].mean()), "final_loss": float(curve[-last:].mean()),
                         "accuracy": acc, "accuracy_std": std, "seconds_per_step": r.seconds_per_step,
                         "loss_curve": curve.tolist()}
        print(f"{name:30s} {curve[:10].mean():8.4f} / {curve[-last:].mean():8.4f}                 "
              f"{100 * acc:6.2f} +- {100 * std:4.2f}   {r.seconds_per_step:.4f}")
    save(results)

    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        print(f"\nwrote history.csv and metatest.json to {args.out} (no matplotlib: no plot)")
        return
    fig, ax = plt.subplots(figsize=(7, 4))
    for key, history in histories.items():
        lp = np.asarray(history["l_p"], dtype=np.float64)
        window = max(1, len(lp) // 50)
        finite = np.isfinite(lp)   # a moving mean over the finite values only
        sums = np.convolve(np.where(finite, lp, 0.0), np.ones(window), mode="valid")
        counts = np.convolve(finite.astype(np.float64), np.ones(window), mode="valid")
        smooth = np.where(counts > 0, sums / np.maximum(counts, 1), np.nan)
        ax.plot(np.arange(len(smooth)) + window, smooth, label=CONFIGURATIONS[key][0])
    ax.set_xlabel("meta-iteration")
    ax.set_ylabel(f"l_p (moving mean of {max(1, args.iterations // 50)})")
    ax.set_title(f"MLHF ablation, {args.net}, Fashion-MNIST")
    ax.legend()
    fig.tight_layout()
    fig.savefig(os.path.join(args.out, "lp_curve.png"), dpi=120)
    print(f"\nwrote history.csv, metatest.json and lp_curve.png to {args.out}")


if __name__ == "__main__":
    main()
