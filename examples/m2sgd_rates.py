"""How M²SGD's rates β_t are spread over a learner's training and over meta-training (issue 15,
item 1: what the sparsity depends on; the spec's pitfalls §2 and §4: a saturated tanh(h·U_β)
freezes β_t and with it the mask, and how many β_t end at 0 sets the sparsity).

Meta-trains M²SGD as the main job does (examples/meta_fashion_mnist.py: its mask at ξ = 0 in
meta-training, U_β ~ U(±0.05) started positive, --trials trials of --meta-batch learners side
by side × S = --steps steps, unroll 5, Adam 1e-3 on φ, no clipping) and, before meta-training
and after each trial, trains --learners fresh 784-32-10 MLPs for --test-steps steps with that
φ (the main job's learners: seed + 1000). After steps 1, 10, 100, 300 and --test-steps it
prints β_t's 10th, 50th and 90th percentiles and maximum, the share at or below ξ = 0 (the
weights the mask removes) and the share whose |tanh(h·U_β)| exceeds 0.999 (saturated: those
rates have stopped moving), each the mean over the learners, and the final test accuracy.
Writes examples/out/m2sgd_rates.json.

    python3 examples/m2sgd_rates.py                 # seeds 0-2, the main job's M²SGD
    python3 examples/m2sgd_rates.py --first-seed 7 --seeds 1
"""
import argparse
import json
import os
import time

import numpy as np

import l2l
from meta_fashion_mnist import M2SGD_INIT

QUANTILES = {"p10": 1, "p50": 2, "p90": 3, "max": 4}   # columns of MetaTestResult.rates["quantiles"]


def rate_rows(result):
    """One row per evaluation step of `result` (an l2l.meta.MetaTestResult of DMSGD or M²SGD):
    the step, β_t's quantiles, the masked and the saturated share, each the mean over learners."""
    rates = result.rates
    rows = []
    for e, step in enumerate(result.evaluation_steps):
        row = {"step": int(step)}
        row.update({name: float(rates["quantiles"][:, e, q].mean()) for name, q in QUANTILES.items()})
        row["masked"] = float(rates["masked_fraction"][:, e].mean())
        row["saturated"] = float(rates["saturated_fraction"][:, e].mean())
        rows.append(row)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="meta-training seeds (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ... (default 0)")
    parser.add_argument("--trials", type=int, default=4, help="Q (default 4, as the main job)")
    parser.add_argument("--meta-batch", type=int, default=2, help="learners per meta-update (default 2, as the main job)")
    parser.add_argument("--steps", type=int, default=1000, help="S (default 1000, as the main job)")
    parser.add_argument("--learners", type=int, default=2, help="fresh learners per φ (default 2, as the main job)")
    parser.add_argument("--test-steps", type=int, default=1000)
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="examples/out")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)
    learner = l2l.learners.MLP([784, 32, 10], seed=args.first_seed)   # as the main job's --seed
    probes = sorted({s for s in (1, 10, 100, 300, args.test_steps) if s <= args.test_steps})
    print(f"M²SGD (ξ = 0, mask in meta-training, {M2SGD_INIT}), Q = {args.trials} × {args.meta_batch} learners × "
          f"S = {args.steps}; {args.learners} fresh learners × {args.test_steps} steps per φ; β_t after steps "
          f"{', '.join(map(str, probes))}, mean over learners")
    print(f"  {'seed':>4s} {'φ after':>8s} {'step':>5s} {'β p10':>9s} {'β p50':>9s} {'β p90':>9s} {'β max':>9s} "
          f"{'masked %':>8s} {'saturated %':>11s} {'test acc':>8s}")
    results = []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        optimizer = l2l.learned.M2SGD(learner, mask_during="both", seed=seed, **M2SGD_INIT)
        trainer = l2l.meta.MetaTrainer(optimizer, [(learner, train)], trials=args.trials, steps=args.steps, unroll=5,
                                       batch=128, meta_lr=1e-3, clip="none", meta_batch=args.meta_batch, seed=seed)
        for trial in range(args.trials + 1):
            if trial > 0:
                trainer.run(trials=1)
            current = trainer.learned() if trial > 0 else optimizer
            r = l2l.meta.meta_test(current, learner, train, test, learners=args.learners, steps=args.test_steps,
                                   eval_steps=probes, seed=seed + 1000)
            rows = rate_rows(r)
            accuracy = r.final_accuracy()[0]
            for row in rows:
                line = (f"  {seed:4d} {trial:8d} {row['step']:5d} {row['p10']:9.2e} {row['p50']:9.2e} {row['p90']:9.2e} "
                        f"{row['max']:9.2e} {100 * row['masked']:8.2f} {100 * row['saturated']:11.2f}")
                print(line + (f" {100 * accuracy:8.2f}" if row is rows[-1] else ""), flush=True)
            results.append({"seed": seed, "trials": trial, "rates": rows, "test_accuracy": accuracy,
                            "sparsity": r.sparsity})
    print(f"  {time.perf_counter() - start:.0f} s")
    with open(os.path.join(args.out, "m2sgd_rates.json"), "w") as f:
        json.dump({"options": vars(args), "m2sgd": M2SGD_INIT, "results": results}, f, indent=1)


if __name__ == "__main__":
    main()
