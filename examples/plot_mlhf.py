"""Figures for the MLHF experiments (examples/swift/MLHFExperiments) from their CSV files.

    swift run -c release l2l-mlhf-experiments      # writes examples/out/mlhf/*.csv
    python3 examples/plot_mlhf.py                    # writes examples/out/mlhf/*.png

ablation.png: l_p and the mean residual norm over meta-training for the four ablation
configurations (the paper's Fig. 4, moving average over 5 meta-iterations).
metatest_convnet.png / metatest_resnet20.png: training loss against samples seen and
against wall time (the paper's Figs. 2-3 layout).
"""
import argparse
import csv
import os
from collections import defaultdict

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def read(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(f))


def smooth(values, k=5):
    out = []
    for i in range(len(values)):
        window = values[max(0, i - k + 1):i + 1]
        out.append(sum(window) / len(window))
    return out


def curves(rows, key, *columns):
    """{value of `key`: one list of floats per column, in row order}."""
    out = defaultdict(lambda: tuple([] for _ in columns))
    for r in rows:
        for values, column in zip(out[r[key]], columns):
            values.append(float(r[column]))
    return out


def plot_ablation(rows, path):
    series = curves(rows, "configuration", "iteration", "l_p", "residual_norm")
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, (it, lp, res) in series.items():
        a.plot(it, smooth(lp), label=name)
        b.plot(it, smooth(res), label=name)
    a.set(xlabel="meta-iteration", ylabel="l_p", title="(a) l_p")
    b.set(xlabel="meta-iteration", ylabel="mean ‖r‖", title="(b) residual norm", yscale="log")
    a.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def plot_metatest(rows, path, title):
    series = curves(rows, "optimiser", "samples", "seconds", "training_loss")
    fig, (a, b) = plt.subplots(1, 2, figsize=(11, 4))
    for name, (samples, seconds, loss) in series.items():
        a.plot(samples, smooth(loss, 10), label=name)
        b.plot(seconds, smooth(loss, 10), label=name)
    top = max(2.5, min(max(l for _, _, ls in series.values() for l in ls[:1]), 10))
    for ax, x in ((a, "samples seen"), (b, "wall time (s)")):
        ax.set(xlabel=x, ylabel="training loss", ylim=(0, top))
    a.set_title(title)
    a.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dir", default="examples/out/mlhf", help="where the CSV files are (and the plots go)")
    args = parser.parse_args()
    done = []
    if os.path.exists(os.path.join(args.dir, "ablation.csv")):
        plot_ablation(read(os.path.join(args.dir, "ablation.csv")), os.path.join(args.dir, "ablation.png"))
        done.append("ablation.png")
    for name, title in (("metatest_convnet", "convnet, Fashion-MNIST"), ("metatest_resnet20", "ResNet20, Fashion-MNIST")):
        path = os.path.join(args.dir, name + ".csv")
        if os.path.exists(path):
            plot_metatest(read(path), os.path.join(args.dir, name + ".png"), title)
            done.append(name + ".png")
    if not done:
        raise SystemExit(f"no MLHF CSV files in {args.dir}: run `swift run -c release l2l-mlhf-experiments` first")
    print("wrote", ", ".join(os.path.join(args.dir, d) for d in done))


if __name__ == "__main__":
    main()
