"""The LSTM learner of Bosc (2016), "Learning to Learn Neural Networks", against hand-made
learning algorithms on fresh XOR-of-thresholds data sets (issue 12, part B).

1. Meta-trains l2l.LSTMLearner — an LSTM whose cell state holds the weights of a 10-32-1
   MLP — with SMORMS3 on one fresh data set per iteration (noise lambda = 1), 24 000
   iterations by default: about 10 minutes on this 2-core machine (the paper does not
   say how long it ran).
2. Draws 500 fresh data sets of 200 samples with less noise (lambda = 0.5) and a training
   part of a random 20-80 % of each, and scores every method by the mean cross-entropy on
   the test part: the LSTM learner (one pass over the training part, no hyper-parameters
   left), the training part's base rate, logistic regression (L1 or L2 penalty and C by
   5-fold cross-validation), a linear and an RBF SVM (C, and gamma for RBF, by 5-fold
   cross-validation on the log-loss; probabilities by Platt scaling, i.e. scikit-learn's
   SVC(probability=True), fitted on internal 5-fold cross-validation), and the same
   10-32-1 MLP trained by SGD and by Adam on the training part (50 epochs of mini-batches
   of 10; learning rate chosen on 50 separate validation data sets).
3. Prints the table beside the paper's, says whether the LSTM learner beats the linear
   models (paired Wilcoxon signed-rank test over the data sets), and saves the paper's
   figure — the weights in the cell state over one sequence — and the table under
   examples/out/.

The data sets' XOR thresholds are drawn off-centre (threshold spread 0.5 standard
deviations; `--spread`): with both hyperplanes through the centre (spread 0, the
library's default) the labels have no linear trend at all and a linear model cannot beat
the training part's base rate (measured on 50 sets: logistic regression 0.72, base rate
0.667), whereas the paper's linear models did (0.574); with 0.5 they do.

    python examples/lstm_learner.py                    # about 10 min meta-training on 2 cores
    python examples/lstm_learner.py --iterations 500 --datasets 50      # a quick look

scikit-learn is used here only, to give the baselines.
"""

import argparse
import os
import time
import warnings

import numpy as np

import l2l

PAPER = {"LSTM learner": (0.540, 0.139), "logistic regression (L1/L2, 5-fold CV)": (0.574, 0.208),
         "linear SVM (Platt)": (0.573, 0.159), "RBF SVM (Platt)": (0.507, 0.164)}
EPS = 1e-7


def cross_entropy(y, p):
    """Mean binary cross-entropy of probabilities `p` for labels `y` (p clipped to [1e-7, 1 - 1e-7])."""
    p = np.clip(np.asarray(p, dtype=np.float64), EPS, 1 - EPS)
    return float(-np.mean(np.where(np.asarray(y) == 1, np.log(p), np.log(1 - p))))


def data_sets(count, first_seed, args, rng):
    """`count` fresh data sets (inputs, labels, training-part length)."""
    for i in range(count):
        ds = l2l.datasets.binary_xor(seed=first_seed + i, dimension=args.dimension, samples=args.samples,
                                     noise_scale=args.eval_noise, threshold_spread=args.spread)
        k = int(np.clip(round(rng.uniform(0.2, 0.8) * args.samples), 1, args.samples - 1))
        yield ds.inputs, ds.labels, k


def folds(y):
    """Stratified 5-fold cross-validation, fewer folds if the minority class is that small."""
    from sklearn.model_selection import StratifiedKFold
    return StratifiedKFold(n_splits=int(max(2, min(5, np.bincount(y, minlength=2).min()))), shuffle=True,
                           random_state=0)


def sklearn_methods():
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV
    from sklearn.svm import SVC

    def tuned(estimator, grid):
        def fit_predict(x, y, x_test):
            search = GridSearchCV(estimator, grid, cv=folds(y), scoring="neg_log_loss").fit(x, y)
            return search.predict_proba(x_test)[:, 1]
        return fit_predict

    return {
        "logistic regression (L1/L2, 5-fold CV)": tuned(LogisticRegression(solver="liblinear"),
                                                         {"penalty": ["l1", "l2"], "C": np.logspace(-3, 3, 7)}),
        "linear SVM (Platt)": tuned(SVC(kernel="linear", probability=True, random_state=0),
                                    {"C": np.logspace(-2, 2, 5)}),
        "RBF SVM (Platt)": tuned(SVC(kernel="rbf", probability=True, random_state=0),
                                 {"C": [0.3, 1.0, 3.0, 10.0], "gamma": [0.03, 0.1, 0.3]}),
    }


def mlp_probabilities(x, y, x_test, optimizer, seed, dimension, hidden):
    """The LSTM learner's model, a fresh d-32-1 MLP, trained by `optimizer` on (x, y)."""
    net = l2l.MLP([dimension, hidden, 1], objective="bce", seed=seed)
    l2l.train(net, optimizer, l2l.Dataset.from_arrays(x, y, classes=2), epochs=50, batch_size=10, seed=seed)
    return 1 / (1 + np.exp(-net.forward(x_test)[:, 0].astype(np.float64)))


def choose_learning_rates(args, rng):
    """SGD's and Adam's learning rates with the lowest mean test cross-entropy on
    `args.validation` data sets (seeds apart from the evaluation ones)."""
    sets = list(data_sets(args.validation, 900_000, args, rng))
    chosen = {}
    for name, make, rates in (("SGD", l2l.SGD, (0.01, 0.03, 0.1, 0.3)), ("Adam", l2l.Adam, (1e-3, 3e-3, 1e-2, 3e-2))):
        scores = {lr: np.mean([cross_entropy(y[k:], mlp_probabilities(x[:k], y[:k], x[k:], make(lr=lr), i,
                                                                      args.dimension, 32))
                               for i, (x, y, k) in enumerate(sets)]) for lr in rates}
        chosen[name] = min(scores, key=scores.get)
        print(f"  {name}: validation cross-entropy " + ", ".join(f"lr={lr:g}: {s:.3f}" for lr, s in scores.items()))
    return chosen


def figure(learner, losses, args):
    """The paper's figure: the weights in the cell state over one sequence of 100 samples
    (50 training, 50 test), drawn as their change from the meta-learned prior, the
    test-part loss of each theta_t, and the meta-training curve."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds = l2l.datasets.binary_xor(seed=4242, dimension=args.dimension, samples=100, noise_scale=args.eval_noise,
                                 threshold_spread=args.spread)
    x, y, k = ds.inputs, ds.labels, 50
    run = learner.run(x, y, k, weights=True)
    parts = [learner.model_weights(theta) for theta in run.weights]
    change = run.weights - run.weights[0]                              # theta_t - theta_0, [t, P]
    w1, rest = change[:, :args.dimension * 32], change[:, args.dimension * 32:]   # W1; then b1, W2, b2

    def test_loss(p):
        h = np.maximum(x[k:] @ p[0] + p[1], 0)
        return cross_entropy(y[k:], 1 / (1 + np.exp(-(h @ p[2] + p[3])[:, 0])))

    curve = [test_loss(p) for p in parts]
    fig, axes = plt.subplots(4, 1, figsize=(9, 11), gridspec_kw={"height_ratios": [3, 2, 1.3, 1.3]})
    for ax, w, title in ((axes[0], w1, "W1 (d x 32 weights)"), (axes[1], rest, "b1, W2, b2")):
        lim = np.abs(w).max()
        im = ax.imshow(w.T, aspect="auto", cmap="RdBu_r", vmin=-lim, vmax=lim, interpolation="nearest")
        ax.axvline(k, color="k", lw=1)
        ax.set_title(f"cell state minus the prior: {title}; | = end of the training part")
        ax.set_ylabel("weight")
        fig.colorbar(im, ax=ax, pad=0.01)
    axes[1].set_xlabel("time step t (theta_t after t samples)")
    axes[2].plot(curve, color="C0")
    axes[2].axvline(k, color="k", lw=1)
    axes[2].set_ylabel("test-part CE")
    axes[2].set_title("loss of theta_t on this sequence's test part")
    window = max(1, len(losses) // 100)
    axes[3].plot(np.convolve(losses, np.ones(window) / window, mode="valid"), color="C1")
    axes[3].set_xlabel("meta-iteration")
    axes[3].set_ylabel("CE, all samples")
    axes[3].set_title(f"meta-training objective (moving mean of {window})")
    fig.tight_layout()
    path = os.path.join(args.out, "lstm_learner_weights.png")
    fig.savefig(path, dpi=110)
    print(f"figure: {path}")


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--iterations", type=int, default=24000, help="meta-training iterations (SMORMS3 steps)")
    parser.add_argument("--datasets", type=int, default=500, help="evaluation data sets")
    parser.add_argument("--validation", type=int, default=50, help="data sets that choose the MLP's learning rates")
    parser.add_argument("--samples", type=int, default=200, help="samples per evaluation data set")
    parser.add_argument("--dimension", type=int, default=10, help="input dimension d")
    parser.add_argument("--noise", type=float, default=1.0, help="noise lambda of meta-training")
    parser.add_argument("--eval-noise", type=float, default=0.5, help="noise lambda of evaluation (lower)")
    parser.add_argument("--spread", type=float, default=0.5,
                        help="threshold spread of the XOR data (0: thresholds at the centre, no linear signal)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "out"))
    parser.add_argument("--save", default=None, help="save the meta-trained learner here (.safetensors)")
    args = parser.parse_args()
    os.makedirs(args.out, exist_ok=True)
    warnings.filterwarnings("ignore")     # liblinear's and SVC's convergence chatter on tiny folds

    learner = l2l.LSTMLearner(dimension=args.dimension, noise_scale=args.noise, threshold_spread=args.spread,
                              seed=args.seed)
    print(f"{learner}\nmeta-training: {args.iterations} iterations (SMORMS3, one fresh sequence each)")
    start = time.time()
    losses = learner.fit(args.iterations, progress=True)
    minutes = (time.time() - start) / 60
    print(f"meta-training took {minutes:.1f} min; objective {losses[:500].mean():.3f} (first 500) -> "
          f"{losses[-500:].mean():.3f} (last 500); {learner.events} skipped steps")
    if args.save:
        learner.save(args.save)

    rng = np.random.default_rng(args.seed + 1)
    print(f"choosing the MLP's learning rates on {args.validation} validation data sets")
    rates = choose_learning_rates(args, rng)
    methods = {"LSTM learner": lambda x, y, xt, i: learner.predict(x, y, xt),
               "base rate of the training part": lambda x, y, xt, i: np.full(len(xt), y.mean())}
    methods.update({name: (lambda f: lambda x, y, xt, i: f(x, y, xt))(f) for name, f in sklearn_methods().items()})
    methods[f"MLP 10-32-1, SGD lr={rates['SGD']:g}"] = \
        lambda x, y, xt, i: mlp_probabilities(x, y, xt, l2l.SGD(lr=rates["SGD"]), i, args.dimension, 32)
    methods[f"MLP 10-32-1, Adam lr={rates['Adam']:g}"] = \
        lambda x, y, xt, i: mlp_probabilities(x, y, xt, l2l.Adam(lr=rates["Adam"]), i, args.dimension, 32)

    print(f"evaluating on {args.datasets} fresh data sets of {args.samples} samples (noise lambda {args.eval_noise})")
    scores = {name: [] for name in methods}
    start = time.time()
    for i, (x, y, k) in enumerate(data_sets(args.datasets, 1_000_000, args, rng)):
        for name, method in methods.items():
            scores[name].append(cross_entropy(y[k:], method(x[:k], y[:k], x[k:], i)))
        if (i + 1) % 50 == 0:
            print(f"  {i + 1} data sets, {time.time() - start:.0f} s")

    rows = [f"| method | test cross-entropy, mean ± std | paper |", "|---|---|---|"]
    for name, s in scores.items():
        paper = PAPER.get(name)
        rows.append(f"| {name} | {np.mean(s):.3f} ± {np.std(s, ddof=1):.3f} | "
                    + (f"{paper[0]:.3f} ± {paper[1]:.3f}" if paper else "–") + " |")
    table = "\n".join(rows)
    print("\n" + table)

    from scipy.stats import wilcoxon
    lstm = np.array(scores["LSTM learner"])
    verdicts = []
    for name in ("logistic regression (L1/L2, 5-fold CV)", "linear SVM (Platt)"):
        other = np.array(scores[name])
        p = wilcoxon(lstm, other).pvalue
        better = lstm.mean() < other.mean()
        verdicts.append(f"LSTM learner vs {name}: {lstm.mean():.3f} vs {other.mean():.3f}, lower on "
                        f"{np.mean(lstm < other) * 100:.0f} % of the data sets, Wilcoxon p = {p:.2g} -> "
                        + ("beats it" if better and p < 0.01 else "does not beat it"))
    print("\n".join(verdicts))
    with open(os.path.join(args.out, "lstm_learner_table.md"), "w") as f:
        f.write(f"meta-training: {args.iterations} iterations, {minutes:.1f} min; evaluation: {args.datasets} "
                f"data sets of {args.samples} samples, noise {args.eval_noise}, threshold spread {args.spread}\n\n"
                + table + "\n\n" + "\n".join(verdicts) + "\n")
    figure(learner, losses, args)


if __name__ == "__main__":
    main()
