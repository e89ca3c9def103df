#!/usr/bin/env bash
# Runs meta-training on two MPI ranks as if on two hosts: two network namespaces (each with
# its own hostname) joined by a veth pair, so every exchange of meta-gradients crosses a
# real TCP link (Open MPI's tcp transport only; no shared memory). Prints the link's ping,
# the exchange times over it (benchmarks/mpi_exchange.py) and a run of
# examples/meta_train_mpi.py (whose phi digest matches one process's). Needs root and
# iproute2; not part of CI. Removes the namespaces when it ends.
#
#   sudo bash scripts/mpi_netns.sh                 # Fashion-MNIST, meta-batch 8, 2 trials
#   sudo bash scripts/mpi_netns.sh --data blobs    # extra arguments go to the example
# PYTHON (default python3) runs the ranks; EXCHANGE_META_BATCHES (default "8 1000") are the
# meta-batch sizes whose exchange is timed.
set -euo pipefail
cd "$(dirname "$0")/.."
python="$(command -v "${PYTHON:-python3}")"
a=l2l-mpi-a b=l2l-mpi-b
work="$(mktemp -d)"
cleanup() {
    ip netns del "$a" 2>/dev/null || true
    ip netns del "$b" 2>/dev/null || true
    rm -rf "$work"
}
trap cleanup EXIT
cleanup_first() { ip netns del "$a" 2>/dev/null || true; ip netns del "$b" 2>/dev/null || true; }
cleanup_first

ip netns add "$a"
ip netns add "$b"
ip link add veth-l2l-a type veth peer name veth-l2l-b
ip link set veth-l2l-a netns "$a"
ip link set veth-l2l-b netns "$b"
ip -n "$a" addr add 10.77.0.1/24 dev veth-l2l-a
ip -n "$b" addr add 10.77.0.2/24 dev veth-l2l-b
for ns in "$a" "$b"; do ip -n "$ns" link set lo up; done
ip -n "$a" link set veth-l2l-a up
ip -n "$b" link set veth-l2l-b up

# What mpirun runs instead of ssh to start its daemon on a "host": the command, through a
# shell as ssh would, in that address's namespace under that namespace's hostname.
cat > "$work/agent" <<AGENT
#!/bin/sh
host=\$1; shift
case \$host in
    10.77.0.1) ns=$a ;;
    10.77.0.2) ns=$b ;;
    *) echo "mpi_netns agent: unknown host \$host" >&2; exit 1 ;;
esac
exec ip netns exec "\$ns" unshare --uts sh -c "hostname \$ns; \$*"
AGENT
chmod +x "$work/agent"
printf '10.77.0.1 slots=1\n10.77.0.2 slots=1\n' > "$work/hosts"

echo "== the link: $a (10.77.0.1) <-> $b (10.77.0.2), veth"
if command -v ping >/dev/null; then ip netns exec "$a" ping -c 5 -q 10.77.0.2 | tail -n 1; else echo "(no ping installed)"; fi
exports=(-x PATH)
for v in LD_LIBRARY_PATH L2L_DATA; do [ -n "${!v:-}" ] && exports+=(-x "$v"); done
run() {
    ip netns exec "$a" unshare --uts sh -c "hostname $a; exec \"\$@\"" sh \
        mpirun --allow-run-as-root --hostfile "$work/hosts" -np 2 --mca plm_rsh_agent "$work/agent" \
        --mca btl tcp,self --mca btl_tcp_if_include 10.77.0.0/24 --mca oob_tcp_if_include 10.77.0.0/24 \
        "${exports[@]}" "$python" "$@"
}
echo "== one exchange of the members' rows over TCP"
for m in ${EXCHANGE_META_BATCHES:-8 1000}; do run benchmarks/mpi_exchange.py --meta-batch "$m" --repeats 100; done
echo "== meta-training on the two namespaces"
run examples/meta_train_mpi.py --trials 2 --meta-batch 8 --timings "$@"
