#!/usr/bin/env bash
# Installs what l2l needs on a fresh Debian machine with Swift at /opt/swift (or on PATH)
# and Python 3 with pip: the system libraries, Fashion-MNIST, Open MPI and mpi4py (for
# l2l.mpi), OpenBLAS from PyPI's scipy-openblas32 wheel (its library copied to /usr/local/lib), and the Python module (`pip install ./bindings/python`, which also builds
# libl2l.so). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
# The OpenBLAS build l2l links (docs/measured.md, "Which BLAS, and why", says why).
openblas_version=0.3.34.481.3

packages=(gcc g++ pkg-config zlib1g-dev pybind11-dev libpython3-dev dataset-fashion-mnist openmpi-bin libopenmpi-dev valgrind)
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || packages+=(python3 python3-pip)
sudo=""
if [ "$(id -u)" != 0 ]; then
    command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install packages and write to /usr/local" >&2; exit 1; }
    sudo=sudo
fi
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "setup: Swift not found (expected on PATH or at /opt/swift)" >&2; exit 1; }
# A Debian-managed Python refuses pip installs unless told otherwise (PEP 668); pyenv's does not care.
export PIP_BREAK_SYSTEM_PACKAGES=1
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore numpy pytest matplotlib scikit-learn mpi4py \
    "scipy-openblas32==$openblas_version"

# The BLAS: the wheel's library in /usr/local/lib, where the dynamic loader finds it when
# l2l opens it (Sources/L2LTensor/BLAS.swift).
blas_dir="$(python3 -c 'import scipy_openblas32 as s; print(s.get_lib_dir())')"
$sudo install -m 644 "$blas_dir/libscipy_openblas.so" /usr/local/lib/
$sudo ldconfig
echo "setup: building libl2l.so and installing the Python module l2l"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --force-reinstall --no-deps ./bindings/python
