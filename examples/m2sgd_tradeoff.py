"""M²SGD's accuracy–sparsity trade-off on Fashion-MNIST, beside magnitude pruning (issue 15).

For each of --seeds seeds: meta-train DMSGD on the 784-32-10 MLP (Q = --trials trials of
--meta-batch learners side by side × S = --steps steps, unroll 5, Adam 1e-3, no clipping;
a --then stage trains one learner per meta-update) with U_β drawn from
U(±--u-beta-init) (the authors' code's scale is 0.2236; 0 = the library's default, U_β = 0); with
--mask-during both, also meta-train M²SGD at ξ = --train-xi (default 0) with its mask acting in meta-training
(otherwise M²SGD uses DMSGD's φ and masks at meta-test only); then train one fresh learner
for --test-steps steps with

- DMSGD and Adam (lr 1e-3): dense references;
- M²SGD at every ξ of --xis: the share of weights that end at zero is its sparsity;
- for every such sparsity: the DMSGD- and the Adam-trained learner pruned by magnitude
  (the smallest |w| of each tensor set to zero) to the same share, one-shot and after
  --finetune steps of Adam (lr 1e-3) with the pruned weights held at zero.

Prints test accuracy (mean ± std over seeds) and, per seed, the first ξ at which M²SGD meets
issue 15's target (≥ 49 % removed, no more than 1 point below that seed's DMSGD); writes
examples/out/m2sgd_tradeoff.{json,png}
and, for the first seed, the sparse exports (`l2l.sparse.save_sparse`) of the M²SGD
learners with their size on disk.

    python3 examples/m2sgd_tradeoff.py                    # ~3.5 minutes on 2 cores
    python3 examples/m2sgd_tradeoff.py --steps 100 --trials 20 --mask-during meta_testing   # the main job's recipe before session 13
    python3 examples/m2sgd_tradeoff.py --u-beta-init 0    # the library's default initialisation
    python3 examples/m2sgd_tradeoff.py --trials 4 --steps 1000 --meta-batch 2   # the main job's M²SGD recipe
"""
import argparse
import json
import os
import time

import numpy as np

import l2l
from horizon_stability import parse_stage


def train(net, optimizer, data, steps, seed, mask=None):
    """Trains `net` in place; with `mask`, the weights it zeroes stay at zero after every step."""
    if mask is None:
        l2l.train(net, optimizer, data, steps=steps, batch_size=128, seed=seed)
        return net
    batches = l2l.Batches(data, 128, seed)
    for _ in range(steps):
        batch = batches.next() or batches.next()  # None once at each epoch's end
        net.loss_and_grad(*batch)
        optimizer.step(net)
        net.set_flat_parameters(net.flat_parameters() * mask)
    return net


def target_per_seed(rows, removed, xis, removed_at_least=0.49, within_points=1.0):
    """Issue 15's target per seed: the first ξ of `xis` at which M²SGD removes at least
    `removed_at_least` of the weights and ends no more than `within_points` below the same
    seed's DMSGD (both from `rows`, accuracies in [0, 1]; `removed[ξ]` the shares per seed),
    or None where no ξ does."""
    return [next((xi for xi in xis if removed[xi][i] >= removed_at_least
                  and 100 * (rows[f"M²SGD ξ={xi:g}"][i] - dense) >= -within_points), None)
            for i, dense in enumerate(rows["DMSGD"])]


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="meta-training runs, one fresh learner each (default 3)")
    parser.add_argument("--first-seed", type=int, default=0, help="seeds are first-seed, first-seed + 1, ... (default 0)")
    parser.add_argument("--trials", type=int, default=7, help="Q: learners per meta-training run (default 7)")
    parser.add_argument("--steps", type=int, default=500, help="S: steps per meta-training learner (default 500)")
    parser.add_argument("--meta-batch", type=int, default=1,
                        help="learners per meta-update in the first stage, their meta-gradients averaged (default 1)")
    parser.add_argument("--mask-during", default="both", choices=["both", "meta_testing"],
                        help="where M²SGD's mask acts (default both: M²SGD is meta-trained at ξ = --train-xi with it)")
    parser.add_argument("--train-xi", type=float, default=0.0,
                        help="ξ of M²SGD's mask while it is meta-trained (with --mask-during both; default 0)")
    parser.add_argument("--rate-penalty", type=float, default=0.0,
                        help="M²SGD's rate_penalty λ while meta-trained: λ·mean(β_t) joins each step's loss (not the paper's; default 0)")
    parser.add_argument("--test-steps", type=int, default=1000, help="steps of every fresh learner (default 1000)")
    parser.add_argument("--xis", default="0,0.02,0.05,0.1", help="M²SGD thresholds ξ (default 0,0.02,0.05,0.1)")
    parser.add_argument("--u-beta-init", type=float, default=0.05,
                        help="DMSGD option u_beta_init (default 0.05; the authors' scale is 0.2236)")
    parser.add_argument("--u-beta-sign", default="positive", choices=["positive", "random"],
                        help="DMSGD option u_beta_sign (default positive: no meta-training run starts dead)")
    parser.add_argument("--finetune", type=int, default=100, help="Adam steps after magnitude pruning (default 100)")
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--then", default=None,
                        help="a second meta-training stage for DMSGD and M²SGD, S:Q[:key=value…] with MetaTrainer "
                             "options of its own (e.g. 1000:4:estimator=pes:es_pairs=8: Q learners of S steps, "
                             "the meta-gradient by persistent ES)")
    parser.add_argument("--out", default="examples/out")
    args = parser.parse_args()
    if args.meta_batch < 1:
        parser.error(f"--meta-batch {args.meta_batch}: needs at least 1 learner per meta-update")
    then = parse_stage(args.then, 1) if args.then else None
    xis = [float(x) for x in args.xis.split(",")]
    os.makedirs(args.out, exist_ok=True)

    train_set = l2l.datasets.fashion_mnist("train", directory=args.data)
    test_set = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train_set, test_set)
    shape = [784, 32, 10]
    print(f"Fashion-MNIST, MLP 784-32-10, {args.test_steps} steps per learner, {args.seeds} seeds; "
          f"u_beta_init={args.u_beta_init} u_beta_sign={args.u_beta_sign}, Q = {args.trials}, S = {args.steps}, meta-batch {args.meta_batch}, mask during {args.mask_during}"
          + (f" (ξ = {args.train_xi:g}, rate_penalty {args.rate_penalty:g} in meta-training)" if args.mask_during == "both" else "")
          + (f"; then Q = {then[1]}, S = {then[0]} {then[2]}" if then else ""))

    rows = {"DMSGD": [], "Adam": []}
    for xi in xis:
        for name in ("M²SGD", "DMSGD + magnitude", "DMSGD + magnitude + ft", "Adam + magnitude", "Adam + magnitude + ft"):
            rows[f"{name} ξ={xi:g}"] = []
    removed = {xi: [] for xi in xis}
    sizes = {}
    first_stage_meta_batches = set()   # as the trainers report them
    start = time.perf_counter()
    seeds = range(args.first_seed, args.first_seed + args.seeds)
    for seed in seeds:
        net = l2l.learners.MLP(shape, seed=seed)
        def meta_train(optimizer):
            stages = [(args.steps, args.trials, {"meta_batch": args.meta_batch})] + ([then] if then else [])
            for index, (steps, trials, options) in enumerate(stages):
                trainer = l2l.meta.MetaTrainer(optimizer, [(net, train_set)], trials=trials, steps=steps, unroll=5,
                                               **{"meta_lr": 1e-3, "batch": 128, "clip": "none", "seed": seed, **options})
                if index == 0:
                    first_stage_meta_batches.add(trainer.meta_batch)
                trainer.run()
                optimizer = trainer.learned()
            return optimizer
        dmsgd = meta_train(l2l.learned.DMSGD(net, seed=seed, u_beta_init=args.u_beta_init, u_beta_sign=args.u_beta_sign))
        phi = (meta_train(l2l.learned.M2SGD(net, xi=args.train_xi, mask_during="both", seed=seed, u_beta_init=args.u_beta_init,
                                            u_beta_sign=args.u_beta_sign, rate_penalty=args.rate_penalty))
               if args.mask_during == "both" else dmsgd).meta_parameters()
        learner_seed = 1000 + seed
        fresh = lambda: l2l.learners.MLP(shape, seed=learner_seed)  # noqa: E731
        dense = {"DMSGD": train(fresh(), dmsgd.as_optimizer(), train_set, args.test_steps, learner_seed),
                 "Adam": train(fresh(), l2l.optim.Adam(lr=1e-3), train_set, args.test_steps, learner_seed)}
        for name, trained in dense.items():
            rows[name].append(trained.accuracy(test_set))
        for xi in xis:
            m2 = l2l.learned.M2SGD(net, xi=xi, mask_during=args.mask_during, seed=seed, u_beta_init=args.u_beta_init, u_beta_sign=args.u_beta_sign)
            m2.set_meta_parameters(phi)
            pruned = train(fresh(), m2.as_optimizer(), train_set, args.test_steps, learner_seed)
            share = float((pruned.flat_parameters() == 0).mean())
            removed[xi].append(share)
            rows[f"M²SGD ξ={xi:g}"].append(pruned.accuracy(test_set))
            if seed == args.first_seed:
                path = os.path.join(args.out, f"m2sgd_xi{xi:g}.sparse.safetensors")
                sizes[xi] = l2l.sparse.save_sparse(pruned, path)
            for name, trained in dense.items():
                copy = fresh()
                copy.set_flat_parameters(trained.flat_parameters())
                mask = l2l.sparse.prune_by_magnitude(copy, share)
                rows[f"{name} + magnitude ξ={xi:g}"].append(copy.accuracy(test_set))
                train(copy, l2l.optim.Adam(lr=1e-3), train_set, args.finetune, learner_seed + 1, mask)
                rows[f"{name} + magnitude + ft ξ={xi:g}"].append(copy.accuracy(test_set))
        print(f"  seed {seed}: done after {time.perf_counter() - start:.0f} s", flush=True)

    dense_size = l2l.sparse.save_sparse(l2l.learners.MLP(shape, seed=0), os.path.join(args.out, "dense.sparse.safetensors"))
    stat = {k: (100 * float(np.mean(v)), 100 * float(np.std(v))) for k, v in rows.items()}
    print(f"\ndense: DMSGD {stat['DMSGD'][0]:.2f} ± {stat['DMSGD'][1]:.2f}, Adam {stat['Adam'][0]:.2f} ± {stat['Adam'][1]:.2f} "
          f"(% test accuracy; sparse export of a dense learner: {dense_size / 1024:.1f} KiB)")
    header = ["ξ", "% removed", "M²SGD", "DMSGD+mag", f"DMSGD+mag+ft{args.finetune}", "Adam+mag", f"Adam+mag+ft{args.finetune}", "export KiB"]
    print("  ".join(f"{h:>16s}" for h in header))
    table = []
    for xi in xis:
        cells = [stat[f"{n} ξ={xi:g}"] for n in ("M²SGD", "DMSGD + magnitude", "DMSGD + magnitude + ft",
                                                  "Adam + magnitude", "Adam + magnitude + ft")]
        share = 100 * float(np.mean(removed[xi]))
        table.append({"xi": xi, "removed": share, "removed_per_seed": removed[xi], "accuracy": dict(zip(header[2:7], cells)),
                      "export_bytes_seed0": sizes.get(xi)})
        print(f"{xi:16g}  {share:16.2f}  " + "  ".join(f"{m:9.2f} ± {s:4.2f}" for m, s in cells)
              + f"  {sizes.get(xi, 0) / 1024:16.1f}")
    target = target_per_seed(rows, removed, xis)
    print("target (≥ 49 % removed, ≤ 1 point below this seed's DMSGD), first ξ that meets it: "
          + ", ".join(f"seed {seed} {'-' if xi is None else f'{xi:g}'}" for seed, xi in zip(seeds, target))
          + f"; met at ξ = 0 by {sum(xi == 0 for xi in target)} of {len(target)}, at some ξ by "
          f"{sum(xi is not None for xi in target)}")
    result = {"options": vars(args), "first_stage_meta_batches": sorted(first_stage_meta_batches),
              "dense": {"DMSGD": stat["DMSGD"], "Adam": stat["Adam"]}, "dense_export_bytes": dense_size,
              "table": table, "per_seed": rows, "target_first_xi": target}
    with open(os.path.join(args.out, "m2sgd_tradeoff.json"), "w") as f:
        json.dump(result, f, indent=1)
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError as e:
        print(f"no plot ({e})")
        return
    fig, ax = plt.subplots(figsize=(6, 4))
    x = [row["removed"] for row in table]
    for label in header[2:7]:
        ax.plot(x, [row["accuracy"][label][0] for row in table], "o-", label=label)
    ax.axhline(stat["DMSGD"][0], color="grey", ls="--", label="DMSGD dense")
    ax.axhline(stat["Adam"][0], color="black", ls=":", label="Adam dense")
    ax.set_xlabel("% of weights removed")
    ax.set_ylabel(f"% test accuracy after {args.test_steps} steps")
    ax.legend(fontsize=7)
    fig.tight_layout()
    path = os.path.join(args.out, "m2sgd_tradeoff.png")
    fig.savefig(path, dpi=120)
    print(f"plot: {path}")


if __name__ == "__main__":
    main()
