"""Does a learned optimiser stay good past its meta-training horizon, on every seed, and
on networks it was not meta-trained on?

Meta-trains one learned optimiser (the LSTM optimiser by default) on the 784-32-10 MLP on
Fashion-MNIST from several seeds, with no candidate selection, then trains fresh learners
of each network of --nets with it for --test-steps steps (10× the 100-step horizon) and
reports, per seed, the training loss near steps 100, 300 and 1 000 (each the mean batch
loss over the 50 steps ending there) and the test accuracy, beside SGD with momentum
(lr 0.001, momentum 0.9, the M²SGD paper's baseline) and Adam (lr 1e-3) on the same
learners and batches. On the meta-training network a seed passes when every fresh learner
ends below SGD-momentum's loss and its loss at the end is not above its loss at step 300
(issue 15, item 2); on the others when its test accuracy is within 2 points of Adam's and
its loss did not diverge (item 3).

    python3 examples/horizon_stability.py                                 # the default recipe, 5 seeds
    python3 examples/horizon_stability.py --meta warmup=900 --name warmup # a meta-training option
    python3 examples/horizon_stability.py --optimizer dmsgd             # or meta_sgd, mtl2l
    python3 examples/horizon_stability.py --optimizer dmsgd --curriculum 100:20,1000:4:estimator=pes:es_pairs=8
    python3 examples/horizon_stability.py --nets mlp,mlp64,convnet        # other networks too

--meta and --opt take key=value options for l2l.meta.MetaTrainer and for the optimiser's
constructor (numbers are parsed; several may be given). Every curve goes to
examples/out/horizon_<name>.json. With one seed per process (--first-seed S --seeds 1),
--baselines examples/out/horizon_<earlier>.json reuses an earlier run's SGD-momentum and
Adam curves instead of training them again (about 19 minutes with the convnet in session 12:
one thread, two runs sharing the two cores), and --load <name> meta-tests the optimisers an
earlier --save run kept (OUT/horizon_<name>_seed<S>.safetensors) instead of meta-training
them, e.g. on more networks.
"""
import argparse
import json
import math
import os
import time

import numpy as np

import l2l

WINDOW = 50


def parse_options(pairs):
    """`key=value` strings to a dict, numbers parsed."""
    options = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep:
            raise SystemExit(f"option {pair!r} is not key=value")
        for cast in (int, float):
            try:
                value = cast(value)
                break
            except ValueError:
                pass
        options[key] = value
    return options


def parse_stage(text, trials):
    """One --curriculum entry, `S[:Q][:key=value…]`, as (S, Q, that stage's MetaTrainer options)."""
    fields = text.split(":")
    try:
        steps = int(fields[0])
        q = int(fields[1]) if len(fields) > 1 and "=" not in fields[1] else trials
    except ValueError:
        raise SystemExit(f"{text!r} is not a meta-training stage S[:Q][:key=value…]")
    return steps, q, parse_options([f for f in fields[1:] if "=" in f])


def cpu_name():
    """The CPU's model name (Linux), for the printed header."""
    try:
        with open("/proc/cpuinfo") as f:
            names = [line.split(":", 1)[1].strip() for line in f if line.startswith("model name")]
        return f"{len(names)}× {names[0]}" if names else "unknown CPU"
    except OSError:
        return "unknown CPU"


def loss_at(curve, step):
    """Mean batch loss over the WINDOW steps ending at `step` (1-based)."""
    window = np.asarray(curve[max(0, step - WINDOW):step], dtype=np.float64)
    return float(window.mean())


class StoredRun:
    """A baseline's meta-test read back from an earlier run's JSON: the two things used here."""

    def __init__(self, stored):
        self.training_loss = np.asarray(stored["training_loss"], dtype=np.float32)
        self.accuracy = stored["test_accuracy"]

    def final_accuracy(self):
        return [self.accuracy]


def stored_baselines(path, nets, learners, steps):
    """The baselines of the run saved at `path`, checked to be those this run would train."""
    with open(path) as f:
        stored = json.load(f)["baselines"]
    runs = {net: {name: StoredRun(r) for name, r in stored.get(net, {}).items()} for net in nets}
    for net in nets:
        shapes = {name: r.training_loss.shape for name, r in runs[net].items()}
        if shapes != {"SGD-momentum": (learners, steps), "Adam": (learners, steps)}:
            raise SystemExit(f"--baselines {path}: {net} has {shapes or 'no baselines'}; this run needs "
                             f"SGD-momentum and Adam curves of {learners} learners × {steps} steps")
    return runs


NETS = {"mlp": lambda: l2l.learners.MLP([784, 32, 10], seed=0),
        "mlp64": lambda: l2l.learners.MLP([784, 64, 64, 10], seed=0),
        "convnet": lambda: l2l.learners.Convnet(seed=0)}


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--optimizer", default="lstm", choices=["lstm", "dmsgd", "meta_sgd", "mtl2l"])
    parser.add_argument("--seeds", type=int, default=5, help="meta-training runs (default 5)")
    parser.add_argument("--first-seed", type=int, default=0, help="their seeds are first-seed, first-seed + 1, … (default 0)")
    parser.add_argument("--learners", type=int, default=2, help="fresh learners per seed and network (default 2)")
    parser.add_argument("--trials", type=int, default=20, help="Q (default 20, as the main job)")
    parser.add_argument("--steps", type=int, default=100, help="S, the horizon (default 100)")
    parser.add_argument("--curriculum", default=None,
                        help="comma list of S values, each optionally with its trials as S:Q and then MetaTrainer "
                             "options of that stage alone as :key=value: meta-train Q (default --trials) learners of S "
                             "steps at each in turn, each stage starting from the last one's φ (e.g. 100:60,300:20 or "
                             "100:60,1000:4:estimator=pes:es_pairs=8; overrides --steps). Every stage draws its "
                             "learners from the run's seed unless it has seed_offset=K (then seed + K)")
    parser.add_argument("--unroll", type=int, default=5)
    parser.add_argument("--test-steps", type=int, default=1000)
    parser.add_argument("--nets", default="mlp", help="networks to meta-test on: mlp (784-32-10, the meta-training "
                        "network), mlp64 (784-64-64-10), convnet (28×28, 5×5 conv 32 and 64, 128); comma list")
    parser.add_argument("--meta", nargs="*", default=[], help="MetaTrainer options, key=value")
    parser.add_argument("--opt", nargs="*", default=[], help="optimiser options, key=value")
    parser.add_argument("--name", default="default", help="label of this recipe (file name)")
    parser.add_argument("--data", default=None, help="directory of the Fashion-MNIST IDX files")
    parser.add_argument("--out", default="examples/out")
    parser.add_argument("--baselines", default=None,
                        help="an earlier run's JSON whose SGD-momentum and Adam curves to reuse (same --nets, "
                             "--learners and --test-steps; the learners and batches are the same by seed)")
    parser.add_argument("--load", default=None, metavar="NAME",
                        help="meta-test OUT/horizon_NAME_seed<S>.safetensors (kept by --save) instead of meta-training")
    parser.add_argument("--save", action="store_true",
                        help="also save each seed's meta-trained optimiser to OUT/horizon_<name>_seed<S>.safetensors")
    args = parser.parse_args()
    nets = args.nets.split(",")
    if any(n not in NETS for n in nets):
        raise SystemExit(f"--nets: known networks are {', '.join(NETS)}")
    if args.optimizer in ("dmsgd", "meta_sgd") and nets != ["mlp"]:
        raise SystemExit(f"--optimizer {args.optimizer} is tied to the meta-training network: --nets mlp only")
    stages = [parse_stage(text, args.trials) for text in (args.curriculum.split(",") if args.curriculum else [str(args.steps)])]
    if args.load:
        stages = []
    os.makedirs(args.out, exist_ok=True)

    train = l2l.datasets.fashion_mnist("train", directory=args.data)
    test = l2l.datasets.fashion_mnist("test", directory=args.data)
    l2l.datasets.standardize_splits(train, test)
    learners = {name: NETS[name]() for name in nets}
    learner = learners.get("mlp") or NETS["mlp"]()
    meta = {"clip": "value"} if args.optimizer in ("lstm", "mtl2l") else {}
    meta.update(parse_options(args.meta))
    opt = {"preset": "mtl2l"} if args.optimizer == "lstm" else {}
    opt.update(parse_options(args.opt))
    info = l2l.build_info()
    print(f"{args.optimizer} recipe '{args.name}': meta {meta}, optimiser {opt}; "
          + (f"loaded from {args.out}/horizon_{args.load}_seed<S>.safetensors" if args.load else
             f"Q × S = {' → '.join(f'{q} × {s}' + (f' {o}' if o else '') for s, q, o in stages)}, Ξ = {args.unroll}")
          + f"; {args.seeds} seeds × {args.learners} learners × "
          f"{args.test_steps} steps on {', '.join(nets)}; {cpu_name()}, BLAS {info['blas']} "
          f"{info['blas_version']} ({info['blas_core']}), kernels {info['kernels']}")

    probes = [s for s in (100, 300, args.test_steps) if s <= args.test_steps]

    def run(optimizer, net):
        return l2l.meta.meta_test(optimizer, learners[net], train, test, learners=args.learners,
                                  steps=args.test_steps, eval_steps=[args.test_steps], seed=1000)

    def ends(r):
        return [loss_at(c, args.test_steps) for c in r.training_loss]

    baselines = stored_baselines(args.baselines, nets, args.learners, args.test_steps) if args.baselines else \
        {net: {"SGD-momentum": run(l2l.optim.SGD(lr=0.001, momentum=0.9), net), "Adam": run(l2l.optim.Adam(lr=1e-3), net)}
         for net in nets}
    for net in nets:
        for name, r in baselines[net].items():
            print(f"  {net:8s} {name:12s} loss at {args.test_steps}: " + " ".join(f"{v:.4f}" for v in ends(r))
                  + f"; test accuracy {100 * r.final_accuracy()[0]:.2f} %", flush=True)

    constructors = {"lstm": lambda s: l2l.learned.LSTMOptimizer(seed=s, **opt),
                    "dmsgd": lambda s: l2l.learned.DMSGD(learner, seed=s, **opt),
                    "meta_sgd": lambda s: l2l.learned.MetaSGD(learner, seed=s, **opt),
                    "mtl2l": lambda s: l2l.learned.MTL2L(learner, seed=s, **opt)}
    print(f"  {'seed':>4s} {'net':8s} {'meta-loss':>17s} " + " ".join(f"{'loss@' + str(s):>16s}" for s in probes)
          + f" {'test acc':>8s}  pass")
    rows = []
    start = time.perf_counter()
    for seed in range(args.first_seed, args.first_seed + args.seeds):
        optimizer = (l2l.learned.load(os.path.join(args.out, f"horizon_{args.load}_seed{seed}.safetensors"))
                     if args.load else constructors[args.optimizer](seed))
        history = []
        for steps, trials, options in stages:
            stage = {**meta, **options}
            trainer = l2l.meta.MetaTrainer(optimizer, [(learner, train)], trials=trials, steps=steps,
                                           unroll=args.unroll, seed=seed + stage.pop("seed_offset", 0), **stage)
            history.extend(trainer.run())
            optimizer = trainer.learned()
        if args.save:
            optimizer.save(os.path.join(args.out, f"horizon_{args.name}_seed{seed}.safetensors"))
        k = max(1, len(history) // 10)
        meta_loss = (float(np.mean(history[:k])), float(np.mean(history[-k:]))) if history else (math.nan, math.nan)
        for net in nets:
            r = run(optimizer, net)
            losses = [[loss_at(c, s) for s in probes] for c in r.training_loss]
            accuracy = r.final_accuracy()[0]
            finite = all(math.isfinite(l[-1]) for l in losses)
            if net == "mlp":
                sgd = ends(baselines[net]["SGD-momentum"])
                ok = finite and all(l[-1] < sgd[i] and l[-1] <= l[max(0, len(l) - 2)] for i, l in enumerate(losses))
            else:
                ok = finite and all(l[-1] <= l[0] for l in losses) \
                    and accuracy >= baselines[net]["Adam"].final_accuracy()[0] - 0.02
            print(f"  {seed:4d} {net:8s} {meta_loss[0]:8.3f} → {meta_loss[1]:6.3f} "
                  + " ".join(f"{'/'.join(f'{l[j]:.3f}' for l in losses):>16s}" for j in range(len(probes)))
                  + f" {100 * accuracy:8.2f}  {'yes' if ok else 'NO'}", flush=True)
            rows.append({"seed": seed, "net": net, "meta_loss": meta_loss, "losses": losses,
                         "test_accuracy": float(accuracy), "pass": ok, "training_loss": r.training_loss.tolist()})
    for net in nets:
        mine = [row for row in rows if row["net"] == net]
        accs = [row["test_accuracy"] for row in mine]
        adam = baselines[net]["Adam"].final_accuracy()[0]
        print(f"  {net}: {sum(row['pass'] for row in mine)}/{len(mine)} seeds pass; test accuracy "
              f"{100 * np.mean(accs):.2f} ± {100 * np.std(accs):.2f} % (Adam {100 * adam:.2f} %)")
    print(f"  {time.perf_counter() - start:.0f} s")
    with open(os.path.join(args.out, f"horizon_{args.name}.json"), "w") as f:
        json.dump({"optimizer": args.optimizer, "meta": meta, "opt": opt, "stages": stages,
                   "unroll": args.unroll, "probes": probes, "window": WINDOW, "build_info": info,
                   "baselines": {net: {n: {"training_loss": r.training_loss.tolist(),
                                           "test_accuracy": r.final_accuracy()[0]} for n, r in b.items()}
                                 for net, b in baselines.items()},
                   "seeds": rows}, f)


if __name__ == "__main__":
    main()
