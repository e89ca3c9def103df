"""The MTL2L paper's two scenarios at laptop scale (Kuo et al., "MTL2L: A Context Aware
Neural Optimiser", arXiv:2007.09343, Section 4), on the 784-32-10 ReLU MLP, batch 128.

Scenario 1 (the usual assumption: meta-test on the meta-training domain). MTL2L and the
LSTM optimiser (`preset="mtl2l"`, the authors' baseline: 20 then 1 unit, Δ = 0.1·h₂) are
meta-trained identically on Fashion-MNIST (Q = --trials learners × S = 100 steps, unroll
Ξ = 5, Adam 1e-3 on φ, the authors' element-wise meta-gradient clamp to [−1, 1]); then
fresh learners are trained for 1 000 steps (10× the horizon) by each of them, by SGD (lr
0.1), SGD with momentum (lr 0.01, 0.9) and Adam (lr 1e-3) on Fashion-MNIST.

Scenario 2 (an unseen domain). MTL2L is meta-trained on two domains, trials alternating
(trial q on task q mod 2): Fashion-MNIST and Fashion-MNIST rotated by 90° and inverted
(`l2l.datasets.transformed_fashion_mnist`); the LSTM optimiser is the one of scenario 1,
meta-trained on Fashion-MNIST only (one of MTL2L's two domains, as in the paper, whose
LSTM optimiser saw KMNIST only). All optimisers then train fresh learners on a domain
neither saw: scikit-learn's handwritten digits resized to 28×28 (`l2l.datasets.digits`,
1 497 training and 300 test images).

Everything is repeated for --seeds seeds (φ's initial draw, the meta-training run and the
meta-test learners change with the seed; the learners of one seed are the same for every
optimiser). Printed: the test loss at steps 10/100/200/500/1000 and the test accuracy at
1 000 steps (mean ± std over seeds × learners), and per seed whether each claim of the
paper holds. Written to --out: mtl2l.png (test loss against steps, both scenarios: the median over
seeds × learners, the band from the lowest to the highest), mtl2l.json (every curve), the
learned optimisers of each seed. --replot redraws mtl2l.png from mtl2l.json without running.

    python3 examples/mtl2l.py                   # 3 seeds × 2 learners: 5 minutes on one core of a busy machine
    python3 examples/mtl2l.py --seeds 1 --learners 1 --trials 4     # a smoke run, about two minutes
"""
import argparse
import json
import os
import time

import numpy as np

import l2l

EVAL_STEPS = [10] + list(range(50, 1001, 50))
TABLE_STEPS = [10, 100, 200, 500, 1000]


def meta_train(name, optimizer, tasks, args, seed, progress):
    """Meta-trains `optimizer` on `tasks` ((learner, dataset) pairs, trial q on task q mod
    len(tasks)); returns the trained LearnedOptimizer."""
    trainer = l2l.meta.MetaTrainer(optimizer, tasks, trials=args.trials, steps=100, unroll=5, meta_lr=1e-3,
                                   batch=128, clip="value", seed=seed)
    start = time.perf_counter()
    history = trainer.run(progress=progress)
    per_trial = history.reshape(args.trials, -1).mean(axis=1)
    change = ", ".join(f"task {k}: {per_trial[k]:.3f} → {per_trial[k::len(tasks)][-1]:.3f}"
                       for k in range(len(tasks)))
    print(f"  seed {seed}: {name:<32} {optimizer.num_meta_params:>6} meta-parameters, {trainer.meta_steps} "
          f"meta-updates in {time.perf_counter() - start:.0f} s; {len(trainer.events)} events; meta-loss of the "
          f"first → last trial on {change}", flush=True)
    return trainer.learned()


def meta_test(optimizer, learner, train, test, args, seed, progress):
    """Test-loss and test-accuracy curves ([learners, len(EVAL_STEPS)]) of fresh learners
    trained 1 000 steps by `optimizer`; a learner whose loss stops being finite keeps NaN."""
    result = l2l.meta.meta_test(optimizer, learner, train, test, learners=args.learners, steps=1000,
                                batch_size=128, eval_steps=EVAL_STEPS, seed=1000 + seed, progress=progress)
    return result.test_loss.astype(np.float64), result.test_accuracy.astype(np.float64)


def column(curves, step):
    return curves[:, EVAL_STEPS.index(step)]


def table(title, results, names):
    """Prints test loss at TABLE_STEPS and accuracy at 1 000 steps, mean ± std over all runs."""
    print(f"\n{title}")
    header = "| optimiser | " + " | ".join(f"loss @ {s}" for s in TABLE_STEPS) + " | test accuracy @ 1000 |"
    print(header)
    print("|" + "---|" * (len(TABLE_STEPS) + 2))
    for name in names:
        loss = np.concatenate([r[0] for r in results[name]])
        accuracy = np.concatenate([r[1] for r in results[name]])
        cells = [f"{np.mean(column(loss, s)):.3f} ± {np.std(column(loss, s)):.3f}" for s in TABLE_STEPS]
        acc = column(accuracy, 1000) * 100
        print(f"| {name} | " + " | ".join(cells) + f" | {np.mean(acc):.2f} ± {np.std(acc):.2f} % |")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="seeds 0..N-1 (default 3)")
    parser.add_argument("--learners", type=int, default=2, help="fresh learners per seed and optimiser (default 2)")
    parser.add_argument("--trials", type=int, default=20,
                        help="Q: meta-training learners per run (default 20, the paper's scenario 1; "
                             "scenario 2 used 30)")
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="examples/out", help="where the figure, the JSON and the optimisers go")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    parser.add_argument("--replot", action="store_true", help="only redraw mtl2l.png from --out's mtl2l.json")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    figure, results = os.path.join(args.out, "mtl2l.png"), os.path.join(args.out, "mtl2l.json")
    if args.replot:
        with open(results) as f:
            saved = json.load(f)
        curves = {key: {name: [(np.array(loss), np.array(acc)) for loss, acc in runs] for name, runs in saved[key].items()}
                  for key in ("scenario1", "scenario2")}
        plot(figure, curves["scenario1"], curves["scenario2"])
        print(f"wrote {figure}")
        return
    progress = not args.quiet
    start = time.perf_counter()

    fmnist = l2l.datasets.fashion_mnist("train", args.data, standardize=True)
    fmnist_test = l2l.datasets.fashion_mnist("test", args.data, standardize=True)
    rotated = l2l.datasets.transformed_fashion_mnist("train", angle=90, invert=True, directory=args.data)
    digits, digits_test = l2l.datasets.digits("train", seed=0), l2l.datasets.digits("test", seed=0)
    print(f"l2l {l2l.__version__}: MLP 784-32-10, batch 128; {args.seeds} seeds × {args.learners} learners × "
          f"1000 steps; meta-training Q = {args.trials} × S = 100, Ξ = 5, Adam 1e-3, clamp [−1, 1]")

    baselines = {"SGD (lr 0.1)": lambda: l2l.optim.SGD(lr=0.1),
                 "SGD momentum (lr 0.01, 0.9)": lambda: l2l.optim.SGD(lr=0.01, momentum=0.9),
                 "Adam (lr 1e-3)": lambda: l2l.optim.Adam(lr=1e-3)}
    names1 = ["MTL2L (Fashion-MNIST)", "LSTM optimiser (Fashion-MNIST)", *baselines]
    names2 = ["MTL2L (Fashion-MNIST + rotated)", "LSTM optimiser (Fashion-MNIST)", *baselines]
    scenario1 = {name: [] for name in names1}
    scenario2 = {name: [] for name in names2}
    for seed in range(args.seeds):
        learner = l2l.learners.MLP([784, 32, 10], seed=seed)
        print(f"\nseed {seed}: meta-training", flush=True)
        mtl2l = meta_train(names1[0], l2l.learned.MTL2L(learner, seed=seed), [(learner, fmnist)], args, seed, progress)
        lstm = meta_train(names1[1], l2l.learned.LSTMOptimizer(preset="mtl2l", seed=seed), [(learner, fmnist)],
                          args, seed, progress)
        multi = meta_train(names2[0], l2l.learned.MTL2L(learner, seed=seed), [(learner, fmnist), (learner, rotated)],
                           args, seed, progress)
        for name, trained in (("mtl2l_fmnist", mtl2l), ("lstm_fmnist", lstm), ("mtl2l_two_domains", multi)):
            trained.save(os.path.join(args.out, f"{name}_seed{seed}.safetensors"))

        print(f"seed {seed}: meta-testing", flush=True)
        optimisers1 = {names1[0]: mtl2l, names1[1]: lstm, **{n: make() for n, make in baselines.items()}}
        optimisers2 = {names2[0]: multi, names2[1]: lstm, **{n: make() for n, make in baselines.items()}}
        for name, optimizer in optimisers1.items():
            scenario1[name].append(meta_test(optimizer, learner, fmnist, fmnist_test, args, seed, progress))
        for name, optimizer in optimisers2.items():
            scenario2[name].append(meta_test(optimizer, learner, digits, digits_test, args, seed, progress))

        # The paper's claims, for this seed (means over its learners).
        def mean_at(results, name, step):
            return float(np.mean(column(results[name][-1][0], step)))

        in_domain = [mean_at(scenario1, names1[0], s) < mean_at(scenario1, names1[1], s) for s in TABLE_STEPS[1:]]
        faster = all(mean_at(scenario1, n, 100) < mean_at(scenario1, b, 100) for n in names1[:2] for b in baselines)
        rise = {n: mean_at(scenario2, n, 1000) - min(mean_at(scenario2, n, s) for s in EVAL_STEPS) for n in names2[:2]}
        print(f"seed {seed}: scenario 1: MTL2L below the LSTM optimiser at steps 100/200/500/1000: {in_domain}; "
              f"both learned optimisers below every baseline at step 100: {faster}")
        print(f"seed {seed}: scenario 2 (digits): test loss at 1000 above its lowest by "
              + ", ".join(f"{n}: {v:.3f}" for n, v in rise.items()), flush=True)

    table(f"Scenario 1: meta-trained and meta-tested on Fashion-MNIST (test loss; mean ± std over "
          f"{args.seeds} seeds × {args.learners} learners)", scenario1, names1)
    table("Scenario 2: meta-tested on the unseen digits (28×28), same runs", scenario2, names2)

    with open(results, "w") as f:
        json.dump({"eval_steps": EVAL_STEPS, "args": vars(args),
                   "scenario1": {n: [[r[0].tolist(), r[1].tolist()] for r in runs] for n, runs in scenario1.items()},
                   "scenario2": {n: [[r[0].tolist(), r[1].tolist()] for r in runs] for n, runs in scenario2.items()}}, f)
    plot(figure, scenario1, scenario2)
    print(f"\nwrote {figure} and {results} in {time.perf_counter() - start:.0f} s")


def plot(path, scenario1, scenario2):
    """Test loss against steps, one panel per scenario: the median over runs (seeds ×
    learners) and a band from the lowest to the highest run."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    panels = [("Scenario 1: Fashion-MNIST (seen)", scenario1), ("Scenario 2: digits 28×28 (unseen)", scenario2)]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.5))
    for ax, (title, results) in zip(axes, panels):
        for name, runs in results.items():
            loss = np.concatenate([r[0] for r in runs])
            line, = ax.plot(EVAL_STEPS, np.nanmedian(loss, axis=0), label=name)
            ax.fill_between(EVAL_STEPS, np.nanmin(loss, axis=0), np.nanmax(loss, axis=0), color=line.get_color(),
                            alpha=0.12)
        ax.set(title=title, xlabel="learner step", ylabel="test loss", yscale="log")
        ax.grid(alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)


if __name__ == "__main__":
    main()
