"""The main job: learned optimisers on real Fashion-MNIST, in the shape of Table 3 of the
M²SGD paper (Kuo et al., Appendix B).

On the 784-32-10 ReLU MLP (batch 128, inputs standardised by the training set's mean and
std), meta-train the LSTM optimiser, Meta-SGD and DMSGD (S = 100 steps per learner,
unroll Ξ = 5, Adam 1e-3 on φ, as the paper), then train fresh learners with each of them,
with M²SGD (DMSGD's φ, masking at meta-test) at ξ ∈ {0, 0.1, 0.2}, with SGD (lr 0.001,
momentum 0.9, as the paper) and with Adam (lr 1e-3), and print test accuracy (mean ± std
over learners), iterations, and weights left (% removed). Saves the learned optimisers,
every result as JSON and a loss-curve plot under --out.

    python3 examples/meta_fashion_mnist.py                 # minutes on 2 cores
    python3 examples/meta_fashion_mnist.py --paper         # the paper's protocol: 10 learners, 10 000 steps

--trials sets Q, the learners each optimiser is meta-trained on (the paper's code: 1, i.e.
20 meta-updates; the default here is larger because 20 updates leave the LSTM optimiser
unstable beyond its horizon; see the README).

The LSTM optimiser uses the recipe the docs recommend (README; ARCHITECTURE.md, "Failure modes"):
the MTL2L authors' baseline network (`preset=mtl2l`: 20 then 1 unit, Δ = 0.1·h₂, gate
biases +1/−1) meta-trained with their element-wise meta-gradient clamp to [−1, 1], from
--lstm-candidates initial φ (seeds seed, seed+1, …), keeping the one whose fresh learner,
trained on the training set for --test-steps steps, ends with the lowest training loss (the
test set plays no part in the choice). What a meta-trained LSTM optimiser does beyond its
horizon depends strongly on φ's initial draw: some draws diverge, some stall, some keep
improving. Meta-SGD and DMSGD follow the M²SGD paper (no clipping unless --clip is given).
"""
import argparse
import math
import os
import sys
import time

import l2l


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--trials", type=int, default=20, help="Q: learners per meta-training run (default 20)")
    parser.add_argument("--steps", type=int, default=100, help="S: steps per meta-training learner (paper: 100)")
    parser.add_argument("--unroll", type=int, default=5, help="Ξ: steps per meta-update (paper: 5)")
    parser.add_argument("--learners", type=int, default=3, help="fresh learners per meta-test (paper: 10)")
    parser.add_argument("--test-steps", type=int, default=1000, help="meta-test iterations (paper: 10 000)")
    parser.add_argument("--paper", action="store_true", help="the paper's meta-test protocol: 10 learners × 10 000 steps")
    parser.add_argument("--clip", default="none", choices=["none", "value", "norm"],
                        help="meta-gradient clipping for Meta-SGD and DMSGD: none (default, as the paper), "
                             "element-wise to [-1, 1] (the authors' code), or global norm 1")
    parser.add_argument("--lstm-preset", default="mtl2l", choices=["mtl2l", "paper"],
                        help="the LSTM optimiser's network (default mtl2l; see above)")
    parser.add_argument("--lstm-clip", default="value", choices=["none", "value", "norm"],
                        help="meta-gradient clipping for the LSTM optimiser (default value, as the MTL2L code)")
    parser.add_argument("--lstm-candidates", type=int, default=3,
                        help="meta-train the LSTM optimiser from this many initial φ and keep the one whose fresh "
                             "learner ends with the lowest training loss (default 3; 1 = no selection)")
    parser.add_argument("--lstm-warmup", type=int, default=0,
                        help="meta-training option warmup for the LSTM optimiser (default 0)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="examples/out", help="where results, optimisers and the plot go")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    if args.paper:
        args.learners, args.test_steps = 10, 10_000
    os.makedirs(args.out, exist_ok=True)
    progress = not args.quiet

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)
    learner = l2l.learners.MLP([784, 32, 10], seed=args.seed)
    print(f"l2l {l2l.__version__}: Fashion-MNIST, MLP 784-32-10 ({learner.num_params} weights), batch 128")
    print(f"meta-training: Q = {args.trials} learners × S = {args.steps} steps, unroll Ξ = {args.unroll}, Adam 1e-3 on φ")

    # Meta-training.
    def meta_train(name, optimizer, clip, seed):
        trainer = l2l.meta.MetaTrainer(optimizer, [(learner, train)], trials=args.trials, steps=args.steps,
                                       unroll=args.unroll, meta_lr=1e-3, batch=128, clip=clip, seed=seed,
                                       warmup=args.lstm_warmup if isinstance(optimizer, l2l.learned.LSTMOptimizer) else 0)
        start = time.perf_counter()
        history = trainer.run(progress=progress)
        seconds = time.perf_counter() - start
        k = max(1, len(history) // 10)
        print(f"  {name:15s} {optimizer.num_meta_params:6d} meta-parameters, clip {clip}, {trainer.meta_steps} meta-updates in "
              f"{seconds:.0f} s; meta-loss {history[:k].mean():.3f} → {history[-k:].mean():.3f}; "
              f"{len(trainer.events)} events")
        return trainer.learned()

    def validation_loss(optimizer):
        """Mean training loss over the last 10 % of a fresh learner's run on the training set
        (a learner seed the meta-test does not use): selection never looks at the test set."""
        r = l2l.meta.meta_test(optimizer, learner, train, train, learners=1, steps=args.test_steps,
                               eval_steps=[args.test_steps], seed=args.seed + 500)
        curve = r.training_loss[0]
        value = float(curve[-max(1, len(curve) // 10):].mean())
        return value if math.isfinite(value) else math.inf

    trained = {}
    candidates = []
    for k in range(args.lstm_candidates):
        lstm = meta_train(f"LSTM #{k + 1}" if args.lstm_candidates > 1 else "LSTM optimiser",
                          l2l.learned.LSTMOptimizer(preset=args.lstm_preset, seed=args.seed + k), args.lstm_clip, args.seed + k)
        if args.lstm_candidates > 1:
            candidates.append((validation_loss(lstm), k, lstm))
            print(f"  {'':15s} validation: training loss {candidates[-1][0]:.4f} after {args.test_steps} steps of a fresh learner")
    if candidates:
        best = min(candidates, key=lambda c: c[0])
        print(f"  LSTM optimiser: candidate #{best[1] + 1} kept (lowest validation training loss)")
        trained["LSTM optimiser"] = best[2]
    else:
        trained["LSTM optimiser"] = lstm
    trained["Meta-SGD"] = meta_train("Meta-SGD", l2l.learned.MetaSGD(learner, seed=args.seed), args.clip, args.seed)
    trained["DMSGD"] = meta_train("DMSGD", l2l.learned.DMSGD(learner, seed=args.seed), args.clip, args.seed)
    for name, optimizer in trained.items():
        optimizer.save(os.path.join(args.out, name.lower().replace(" ", "_").replace("-", "_") + ".safetensors"))

    # M²SGD: DMSGD's φ with the mask acting at meta-test.
    for xi in (0.0, 0.1, 0.2):
        m2 = l2l.learned.M2SGD(learner, xi=xi, seed=args.seed)
        m2.set_meta_parameters(trained["DMSGD"].meta_parameters())
        trained[f"M²SGD ξ = {xi:g}"] = m2

    optimizers = {"SGD (lr 0.001, momentum 0.9)": l2l.optim.SGD(lr=0.001, momentum=0.9),
                  "Adam (lr 0.001)": l2l.optim.Adam(lr=1e-3)}
    optimizers.update(trained)

    # Meta-testing on fresh learners.
    print(f"meta-testing: {args.learners} fresh learners × {args.test_steps} steps each "
          f"(10 × the meta-training horizon is {10 * args.steps})")
    evals = sorted({s for s in (100, 1000, 10 * args.steps, args.test_steps) if s <= args.test_steps})
    results = {}
    for name, optimizer in optimizers.items():
        results[name] = l2l.meta.meta_test(optimizer, learner, train, test, learners=args.learners,
                                           steps=args.test_steps, eval_steps=evals, seed=args.seed + 1000,
                                           progress=progress)
        results[name].to_json(os.path.join(args.out, "meta_test_" + "".join(c if c.isalnum() else "_" for c in name) + ".json"))

    # Table 3's shape.
    total = learner.num_params
    print()
    print(f"{'Optimiser':32s} {'% Accuracy':>16s} {'# Iterations':>13s} {'# Weights (% ↓)':>20s}")
    for name, r in results.items():
        mean, std = r.final_accuracy()
        left = total - r.sparsity * total
        removed = f"({100 * r.sparsity:.2f}%)" if r.sparsity > 0 else "(-)"
        print(f"{name:32s} {100 * mean:8.2f} ± {100 * std:4.2f} {args.test_steps:13d} {left / 1000:9.1f}K {removed:>10s}")
    print()
    print("test accuracy at", ", ".join(f"{s} steps" for s in evals), "(mean over learners):")
    for name, r in results.items():
        accs = r.test_accuracy.mean(axis=0)
        print(f"  {name:32s} " + "  ".join(f"{100 * a:6.2f}" for a in accs))
    try:
        path = os.path.join(args.out, "loss_curves.png")
        l2l.meta.plot_loss_curves(results, path)
        print(f"loss curves: {path}")
    except ImportError as e:
        print(f"no plot ({e})")


if __name__ == "__main__":
    main()
