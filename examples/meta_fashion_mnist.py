"""The main job: learned optimisers on real Fashion-MNIST, in the shape of Table 3 of the
M²SGD paper (Kuo et al., Appendix B).

On the 784-32-10 ReLU MLP (batch 128, inputs standardised by the training set's mean and
std), meta-train the LSTM optimiser, Meta-SGD, DMSGD (S = 100 steps per learner,
unroll Ξ = 5, Adam 1e-3 on φ, as the paper) and M²SGD from each of --seeds seeds, then train
--learners fresh learners with each trained optimiser, with M²SGD at every ξ of --xis,
with SGD (lr 0.001, momentum 0.9, as the paper) and with Adam (lr 1e-3), and print test
accuracy as mean ± std over the seeds (each seed's figure the mean of its learners; no run
is left out or chosen), iterations, weights left (% removed) and M²SGD's accuracy–sparsity
curve. Saves the first seed's learned optimisers, every result as JSON, the loss curves and
the M²SGD curve under --out.

M²SGD is meta-trained as the paper's Algorithm 1 does it, with its own update (eqs. 10–11,
the mask at ξ = 0) in the meta-training steps, on the recipe that reaches the paper's
sparsity here (docs/m2sgd-sparsity.md): --m2sgd-trials trials, each
training --m2sgd-meta-batch learners side by side for --m2sgd-steps steps (4 × 2 × 1 000:
the meta-objective sees the whole 1 000-step horizon the learner is tested on; at the
paper's S = 100 the mask removes about 15 %, and longer meta-training at S = 500 keeps
removing weights until the learner loses points), U_β drawn from U(±0.05) with the sign
that starts every rate above 0. It is then tested at each ξ.
--m2sgd-from-dmsgd instead masks DMSGD's φ at meta-test only (the mask never seen in
meta-training: 6–14 points lost at the same sparsity).

    python3 examples/meta_fashion_mnist.py                 # about an hour of CPU time
    python3 examples/meta_fashion_mnist.py --paper         # the paper's protocol: 10 learners, 10 000 steps
    python3 examples/meta_fashion_mnist.py --long-horizon 1000:4   # + a PES stage for Meta-SGD, DMSGD, M²SGD

--trials sets Q, the learners Meta-SGD and DMSGD are meta-trained on (the paper's code: 1,
i.e. 20 meta-updates); the LSTM optimiser and M²SGD have their own, --lstm-trials and
--m2sgd-trials.

The LSTM optimiser uses the recipe that stays good past its horizon on every seed measured
(docs/past-the-horizon.md; ARCHITECTURE.md, "Failure modes"): the MTL2L authors' baseline
network (`preset=mtl2l`: 20 then 1 unit, Δ = 0.1·h₂, gate biases +1/−1) with RNNprop's
inputs and odd updates (inputs=adam odd=1; --lstm-opt KEY=VALUE changes single options),
meta-trained with their element-wise meta-gradient clamp to [−1, 1] on --lstm-trials (60)
learners of S = --steps steps, then on 4 learners of 1 000 steps by persistent ES at Adam
1e-4 (--lstm-pes 1000:4). With the log/sign inputs and no PES stage (`--lstm-opt
inputs=log_sign odd=0 --lstm-pes none`, the recipe of sessions 6–18) some seeds' learners
stop improving or diverge past the 100-step horizon (`examples/horizon_stability.py`
measures it). Meta-SGD and DMSGD follow the M²SGD paper (no clipping unless --clip is
given).
"""
import argparse
import json
import os
import time
import types

import numpy as np

import l2l

# M²SGD's initial U_β when it is meta-trained with its mask: U(±0.05), the sign that starts
# every rate above 0 (U_β = 0 removes 3–8 %; the authors' U(±0.2236) kills whole seeds).
M2SGD_INIT = dict(u_beta_init=0.05, u_beta_sign="positive")
# The LSTM optimiser's options and its PES stage's meta learning rate (docs/past-the-horizon.md).
LSTM_OPTIONS = {"inputs": "adam", "odd": "1"}
LSTM_PES_LR = 1e-4


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seeds", type=int, default=3, help="meta-training seeds seed, seed+1, … (default 3)")
    parser.add_argument("--trials", type=int, default=20, help="Q for Meta-SGD and DMSGD (default 20)")
    parser.add_argument("--lstm-trials", type=int, default=60, help="Q for the LSTM optimiser (default 60)")
    parser.add_argument("--steps", type=int, default=100, help="S: steps per meta-training learner (paper: 100)")
    parser.add_argument("--unroll", type=int, default=5, help="Ξ: steps per meta-update (paper: 5)")
    parser.add_argument("--learners", type=int, default=2, help="fresh learners per seed and optimiser (default 2)")
    parser.add_argument("--test-steps", type=int, default=1000, help="meta-test iterations (paper: 10 000)")
    parser.add_argument("--paper", action="store_true", help="the paper's meta-test protocol: 10 learners × 10 000 steps")
    parser.add_argument("--xis", default="0,0.02,0.05,0.1,0.2", help="M²SGD thresholds ξ (default 0,0.02,0.05,0.1,0.2)")
    parser.add_argument("--m2sgd-trials", type=int, default=4, help="Q for M²SGD (default 4)")
    parser.add_argument("--m2sgd-steps", type=int, default=1000, help="S for M²SGD (default 1000)")
    parser.add_argument("--m2sgd-meta-batch", type=int, default=2,
                        help="learners per meta-update for M²SGD, their meta-gradients averaged (default 2)")
    parser.add_argument("--m2sgd-from-dmsgd", action="store_true",
                        help="M²SGD masks DMSGD's φ at meta-test instead of being meta-trained with its mask")
    parser.add_argument("--clip", default="none", choices=["none", "value", "norm"],
                        help="meta-gradient clipping for Meta-SGD and DMSGD: none (default, as the paper), "
                             "element-wise to [-1, 1] (the authors' code), or global norm 1")
    parser.add_argument("--lstm-preset", default="mtl2l", choices=["mtl2l", "paper"],
                        help="the LSTM optimiser's network (default mtl2l; see above)")
    parser.add_argument("--lstm-clip", default="value", choices=["none", "value", "norm"],
                        help="meta-gradient clipping for the LSTM optimiser (default value, as the MTL2L code)")
    parser.add_argument("--lstm-warmup", type=int, default=0,
                        help="meta-training option warmup for the LSTM optimiser (default 0)")
    parser.add_argument("--lstm-opt", nargs="+", default=[], metavar="KEY=VALUE",
                        help="options of the LSTM optimiser, each replacing one of the defaults inputs=adam odd=1 "
                             "or adding one (not preset or seed)")
    parser.add_argument("--lstm-pes", default="1000:4", metavar="S:Q",
                        help="the LSTM optimiser's PES stage after its --steps stage: Q learners of S steps, "
                             "8 antithetic pairs, Adam 1e-4 (default 1000:4; none: no such stage)")
    parser.add_argument("--long-horizon", default=None, metavar="S:Q",
                        help="after their first stage, meta-train Meta-SGD, DMSGD and M²SGD on Q more learners of S "
                             "steps with the meta-gradient by persistent ES over the whole trial (8 antithetic pairs, "
                             "Adam 1e-3, one learner per meta-update; the LSTM optimiser has --lstm-pes). 1000:4 made "
                             "DMSGD stable to step 1 000 on every seed tried (docs/past-the-horizon.md)")
    parser.add_argument("--seed", type=int, default=0, help="the first seed")
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="examples/out", help="where results, optimisers and the plots go")
    parser.add_argument("--quiet", action="store_true", help="no progress bars")
    args = parser.parse_args()
    if args.m2sgd_meta_batch < 1:
        parser.error(f"--m2sgd-meta-batch {args.m2sgd_meta_batch}: needs at least 1 learner per meta-update")
    if args.paper:
        args.learners, args.test_steps = 10, 10_000
    xis = [float(x) for x in args.xis.split(",")]

    def horizon(flag, text):
        """S:Q as (S, Q); None for none."""
        if text is None or text == "none":
            return None
        try:
            steps, trials = (int(v) for v in text.split(":"))
        except ValueError:
            steps = trials = 0
        if steps <= 0 or trials <= 0:
            parser.error(f"{flag} {text!r} is not S:Q (two positive whole numbers)")
        return steps, trials

    long_horizon = horizon("--long-horizon", args.long_horizon)
    lstm_pes = horizon("--lstm-pes", args.lstm_pes)
    lstm_opt = dict(LSTM_OPTIONS)
    for pair in args.lstm_opt:
        key, sep, value = pair.partition("=")
        if not (key and sep and value) or key in ("preset", "seed"):
            parser.error(f"--lstm-opt {pair!r} is not KEY=VALUE with a key other than preset and seed")
        lstm_opt[key] = value
    try:
        lstm_options_text = l2l.learned.LSTMOptimizer(preset=args.lstm_preset, **lstm_opt).options_text
    except l2l.InvalidArgumentError as e:
        parser.error(f"--lstm-opt: {e}")
    seeds = list(range(args.seed, args.seed + args.seeds))
    m2sgd_recipe = (f"{args.m2sgd_trials} trial{'s' * (args.m2sgd_trials != 1)} × {args.m2sgd_meta_batch} "
                    f"learner{'s' * (args.m2sgd_meta_batch != 1)} × S = {args.m2sgd_steps}")
    os.makedirs(args.out, exist_ok=True)
    progress = not args.quiet

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)
    learner = l2l.learners.MLP([784, 32, 10], seed=args.seed)
    info = l2l.build_info()
    print(f"l2l {l2l.__version__}: Fashion-MNIST, MLP 784-32-10 ({learner.num_params} weights), batch 128; "
          f"BLAS {info['blas']} {info['blas_version']} ({info['blas_core']}), l2l kernels {info['kernels']}")
    print(f"meta-training from {len(seeds)} seeds: Q = {args.lstm_trials} (LSTM optimiser"
          + (f"; then Q = {lstm_pes[1]} × S = {lstm_pes[0]} by PES at Adam {LSTM_PES_LR:g}" if lstm_pes else "")
          + f") / {args.trials} learners × S = {args.steps} steps"
          + ("" if args.m2sgd_from_dmsgd else f" (M²SGD, its mask at ξ = 0: {m2sgd_recipe})")
          + f", unroll Ξ = {args.unroll}, Adam 1e-3 on φ"
          + (f"; then Meta-SGD, DMSGD, M²SGD: Q = {long_horizon[1]} × S = {long_horizon[0]} by PES (8 pairs, "
             f"Adam 1e-3)" if long_horizon else ""))
    print(f"LSTM optimiser: {lstm_options_text}")

    def meta_train(name, optimizer, clip, seed, trials, warmup=0, steps=args.steps, meta_batch=1,
                   pes=long_horizon, pes_lr=1e-3):
        """`optimizer` meta-trained on `trials` learners of `steps` steps, then, if `pes` is
        (S, Q), on Q learners of S steps by PES at Adam `pes_lr`."""
        stages = [dict(trials=trials, steps=steps, meta_lr=1e-3, warmup=warmup, meta_batch=meta_batch)]
        if pes:
            stages.append(dict(trials=pes[1], steps=pes[0], estimator="pes", es_pairs=8, meta_lr=pes_lr))
        for stage in stages:
            trainer = l2l.meta.MetaTrainer(optimizer, [(learner, train)], unroll=args.unroll, batch=128, clip=clip,
                                           seed=seed, **stage)
            start = time.perf_counter()
            history = trainer.run(progress=progress)
            seconds = time.perf_counter() - start
            k = max(1, len(history) // 10)
            print(f"  seed {seed} {name:15s} {optimizer.num_meta_params:6d} meta-parameters, clip {clip}, "
                  f"{trainer.meta_steps} meta-updates" + (f" of {trainer.meta_batch} learners" if trainer.meta_batch > 1 else "")
                  + f" in {seconds:.0f} s"
                  + (f" (S = {stage['steps']}, PES at Adam {stage['meta_lr']:g})" if stage is not stages[0] else "")
                  + f"; meta-loss {history[:k].mean():.3f} → {history[-k:].mean():.3f}; {len(trainer.events)} events")
            optimizer = trainer.learned()
        return optimizer

    evals = sorted({s for s in (100, 1000, 10 * args.steps, args.test_steps) if s <= args.test_steps})

    def meta_test(optimizer, seed):
        return l2l.meta.meta_test(optimizer, learner, train, test, learners=args.learners, steps=args.test_steps,
                                  eval_steps=evals, seed=seed + 1000, progress=progress)

    # Every optimiser's results, one MetaTestResult per seed.
    results = {}
    for seed in seeds:
        trained = {
            "LSTM optimiser": meta_train("LSTM optimiser",
                                         l2l.learned.LSTMOptimizer(preset=args.lstm_preset, seed=seed, **lstm_opt),
                                         args.lstm_clip, seed, args.lstm_trials, args.lstm_warmup,
                                         pes=lstm_pes, pes_lr=LSTM_PES_LR),
            "Meta-SGD": meta_train("Meta-SGD", l2l.learned.MetaSGD(learner, seed=seed), args.clip, seed, args.trials),
            "DMSGD": meta_train("DMSGD", l2l.learned.DMSGD(learner, seed=seed), args.clip, seed, args.trials),
        }
        if seed == seeds[0]:
            for name, optimizer in trained.items():
                optimizer.save(os.path.join(args.out, name.lower().replace(" ", "_").replace("-", "_") + ".safetensors"))
        if args.m2sgd_from_dmsgd:
            m2sgd_phi = trained["DMSGD"].meta_parameters()
        else:
            m2sgd = meta_train("M²SGD", l2l.learned.M2SGD(learner, mask_during="both", seed=seed, **M2SGD_INIT),
                               args.clip, seed, args.m2sgd_trials, steps=args.m2sgd_steps,
                               meta_batch=args.m2sgd_meta_batch)
            m2sgd_phi = m2sgd.meta_parameters()
            if seed == seeds[0]:
                m2sgd.save(os.path.join(args.out, "m2sgd.safetensors"))
        for xi in xis:   # the same φ, tested at every ξ (the mask acts in meta-testing in both recipes)
            m2 = l2l.learned.M2SGD(learner, xi=xi, seed=seed, **({} if args.m2sgd_from_dmsgd else M2SGD_INIT))
            m2.set_meta_parameters(m2sgd_phi)
            trained[f"M²SGD ξ = {xi:g}"] = m2
        optimizers = {"SGD (lr 0.001, momentum 0.9)": l2l.optim.SGD(lr=0.001, momentum=0.9),
                      "Adam (lr 0.001)": l2l.optim.Adam(lr=1e-3)}
        optimizers.update(trained)
        for name, optimizer in optimizers.items():
            results.setdefault(name, []).append(meta_test(optimizer, seed))

    # Per seed, the mean over its learners; then mean ± std over seeds.
    def over_seeds(values):
        values = np.asarray(values, dtype=np.float64)
        return values.mean(), values.std()

    accuracy = {name: [r.test_accuracy[:, -1].mean() for r in rs] for name, rs in results.items()}
    removed = {name: [r.sparsity for r in rs] for name, rs in results.items()}
    print(f"\nmeta-testing: {args.learners} fresh learners × {args.test_steps} steps per seed and optimiser "
          f"(10 × the meta-training horizon is {10 * args.steps}); mean ± std over {len(seeds)} seeds\n")
    total = learner.num_params
    print(f"{'Optimiser':32s} {'% Accuracy':>16s} {'# Iterations':>13s} {'# Weights (% ↓)':>20s}   per seed")
    for name in results:
        mean, std = over_seeds(accuracy[name])
        share = float(np.mean(removed[name]))
        left = f"{(1 - share) * total / 1000:9.1f}K"
        note = f"({100 * share:.2f}%)" if share > 0 else "(-)"
        print(f"{name:32s} {100 * mean:8.2f} ± {100 * std:4.2f} {args.test_steps:13d} {left} {note:>10s}   "
              + " / ".join(f"{100 * a:.2f}" for a in accuracy[name]))
    print()
    print("test accuracy at", ", ".join(f"{s} steps" for s in evals), "(mean over seeds and learners):")
    for name, rs in results.items():
        accs = np.mean([r.test_accuracy.mean(axis=0) for r in rs], axis=0)
        print(f"  {name:32s} " + "  ".join(f"{100 * a:6.2f}" for a in accs))

    curve = [{"xi": xi, "removed": over_seeds(removed[f"M²SGD ξ = {xi:g}"]),
              "accuracy": over_seeds(accuracy[f"M²SGD ξ = {xi:g}"])} for xi in xis]
    dense = over_seeds(accuracy["DMSGD"])
    recipe = ("DMSGD's φ, mask at meta-test" if args.m2sgd_from_dmsgd
              else f"meta-trained with its mask at ξ = 0, {m2sgd_recipe}")
    print(f"\nM²SGD's accuracy–sparsity curve ({recipe}; DMSGD unmasked "
          f"{100 * dense[0]:.2f} ± {100 * dense[1]:.2f} %):")
    print(f"  {'ξ':>6s} {'% removed':>16s} {'% accuracy':>16s} {'vs DMSGD':>9s}")
    for point in curve:
        print(f"  {point['xi']:6g} {100 * point['removed'][0]:8.2f} ± {100 * point['removed'][1]:5.2f} "
              f"{100 * point['accuracy'][0]:8.2f} ± {100 * point['accuracy'][1]:5.2f} "
              f"{100 * (point['accuracy'][0] - dense[0]):+9.2f}")

    with open(os.path.join(args.out, "main_job.json"), "w") as f:
        json.dump({"seeds": seeds, "learners": args.learners, "test_steps": args.test_steps, "build_info": info,
                   "results": {name: [r.to_dict() for r in rs] for name, rs in results.items()},
                   "m2sgd_recipe": recipe, "m2sgd_curve": curve}, f)
    try:
        pooled = {name: types.SimpleNamespace(training_loss=np.vstack([r.training_loss for r in rs]))
                  for name, rs in results.items()}
        print(f"loss curves: {l2l.meta.plot_loss_curves(pooled, os.path.join(args.out, 'loss_curves.png'))}")
        print(f"M²SGD curve: {plot_curve(curve, dense, os.path.join(args.out, 'm2sgd_curve.png'))}")
    except ImportError as e:
        print(f"no plots ({e})")


def plot_curve(curve, dense, path):
    """M²SGD's test accuracy against the share of weights removed (error bars: std over
    seeds), with DMSGD's accuracy as a line; returns `path`."""
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    figure = Figure(figsize=(6, 4))
    FigureCanvasAgg(figure)
    axes = figure.add_subplot(1, 1, 1)
    axes.errorbar([100 * p["removed"][0] for p in curve], [100 * p["accuracy"][0] for p in curve],
                  xerr=[100 * p["removed"][1] for p in curve], yerr=[100 * p["accuracy"][1] for p in curve],
                  marker="o", capsize=3, label="M²SGD")
    for p in curve:
        axes.annotate(f"ξ = {p['xi']:g}", (100 * p["removed"][0], 100 * p["accuracy"][0]), fontsize=8,
                      xytext=(4, 4), textcoords="offset points")
    axes.axhline(100 * dense[0], color="grey", linestyle="--", label="DMSGD (dense)")
    axes.set_xlabel("% of weights removed")
    axes.set_ylabel("% test accuracy")
    axes.legend()
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    main()
