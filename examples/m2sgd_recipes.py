"""Which meta-training recipe gives M²SGD its sparsity (issue 15): one short run per recipe.

Each argument after the step count is a recipe, comma-separated key=value pairs: trials (Q,
default 20), S (steps per meta-training learner, default 100), clip (none), seed (0),
during (meta_testing: meta-train DMSGD and mask at meta-test only; both: meta-train M²SGD
at ξ = txi (default 0) with its mask acting), and any DMSGD option (u_beta_init,
learn_gamma, beta_static, ...). For each, meta-train on the 784-32-10 MLP (unroll 5, Adam
1e-3) and print the meta-loss (first → last 10 %) and one fresh learner's test accuracy /
% of weights removed after the given steps: the optimiser as meta-trained, then M²SGD with
its φ at ξ = 0, 0.1, 0.2.

    python3 examples/m2sgd_recipes.py 1000 trials=20 trials=7,S=300,u_beta_init=0.2236,during=both
"""
import sys
import time

import l2l


def value(text):
    """An option's value: an int, else a float, else the text (e.g. u_beta_sign=positive)."""
    for kind in (int, float):
        try:
            return kind(text)
        except ValueError:
            pass
    return text


def main():
    if len(sys.argv) < 3:
        sys.exit(__doc__)
    train = l2l.datasets.fashion_mnist("train")
    test = l2l.datasets.fashion_mnist("test")
    l2l.datasets.standardize_splits(train, test)
    net = l2l.learners.MLP([784, 32, 10], seed=0)
    steps = int(sys.argv[1])
    for recipe in sys.argv[2:]:
        opts = dict(kv.split("=") for kv in recipe.split(",") if kv)
        trials, S = int(opts.pop("trials", 20)), int(opts.pop("S", 100))
        clip, seed = opts.pop("clip", "none"), int(opts.pop("seed", 0))
        during, train_xi = opts.pop("during", "meta_testing"), float(opts.pop("txi", 0))
        opts = {k: value(v) for k, v in opts.items()}
        if during == "meta_testing":
            optimizer = l2l.learned.DMSGD(net, seed=seed, **opts)
        else:
            optimizer = l2l.learned.M2SGD(net, xi=train_xi, mask_during=during, seed=seed, **opts)
        start = time.time()
        trainer = l2l.meta.MetaTrainer(optimizer, [(net, train)], trials=trials, steps=S, unroll=5, meta_lr=1e-3,
                                       batch=128, clip=clip, seed=seed)
        history = trainer.run()
        learned = trainer.learned()
        cells = []
        for xi in (None, 0.0, 0.1, 0.2):
            tested = learned
            if xi is not None:
                tested = l2l.learned.M2SGD(net, xi=xi, mask_during=during, seed=seed, **opts)
                tested.set_meta_parameters(learned.meta_parameters())
            r = l2l.meta.meta_test(tested, net, train, test, learners=1, steps=steps, eval_steps=[steps], seed=seed + 1000)
            cells.append(f"{100 * r.final_accuracy()[0]:.2f}/{100 * r.sparsity:.1f}%")
        k = max(1, len(history) // 10)
        print(f"{recipe:50s} meta-loss {history[:k].mean():.3f}->{history[-k:].mean():.3f} | as trained, ξ = 0, 0.1, 0.2: "
              + "  ".join(cells) + f" ({time.time() - start:.0f} s)", flush=True)


if __name__ == "__main__":
    main()
