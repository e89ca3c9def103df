#!/usr/bin/env bash
# Prints the rate of meta-training over MPI (examples/meta_train_mpi.py: the LSTM optimiser,
# MTL2L preset, on the 784-32-10 MLP over Fashion-MNIST, meta-batch 8) on 1 rank and on 2
# ranks, one core each (l2l sizes its element-wise kernels by the online cores and runs the
# LSTM's products on one OpenBLAS thread: each rank is bound to a core, so it computes on one
# thread's worth of CPU), their ratio, that both end with the same phi, and the time of one
# exchange of the members' rows (benchmarks/mpi_exchange.py). Run by `scripts/bench.sh --mpi`.
# Expects scripts/setup.sh to have run (Open MPI, mpi4py, the Python module).
# PYTHON (default python3) runs the ranks; TRIALS (default 3) sets the length.
set -euo pipefail
cd "$(dirname "$0")/.."
python="${PYTHON:-python3}"
trials="${TRIALS:-3}"
mpirun=(mpirun --bind-to core --map-by core)
[ "$(id -u)" = 0 ] && mpirun+=(--allow-run-as-root)
out="$(mktemp -d)"
trap 'rm -rf "$out"' EXIT

echo "meta-training over MPI: LSTM optimiser (mtl2l) on a 784-32-10 MLP, Fashion-MNIST, meta-batch 8, $trials trials"
for ranks in 1 2; do
    "${mpirun[@]}" -np "$ranks" "$python" examples/meta_train_mpi.py --trials "$trials" --meta-batch 8 --timings \
        > "$out/$ranks.txt"
    grep "tasks/s" "$out/$ranks.txt"
done
rate() { sed -n 's/.* \([0-9.]*\) tasks\/s.*/\1/p' "$out/$1.txt"; }
python3 -c "import sys; print(f'2 ranks / 1 rank: {float(sys.argv[2]) / float(sys.argv[1]):.2f}x')" "$(rate 1)" "$(rate 2)"
if [ "$(grep '^phi sha256' "$out/1.txt")" = "$(grep '^phi sha256' "$out/2.txt")" ]; then
    echo "same phi on 1 and 2 ranks: $(grep '^phi sha256' "$out/1.txt")"
else
    echo "phi differs between 1 and 2 ranks" >&2
    exit 1
fi
echo
echo "one exchange of the members' rows (2 ranks):"
"${mpirun[@]}" -np 2 "$python" benchmarks/mpi_exchange.py --meta-batch 8
