#!/usr/bin/env bash
# Installs what l2l needs on a fresh Debian machine with Swift at /opt/swift (or on PATH)
# and Python 3 with pip: the system libraries, Fashion-MNIST, and the Python module
# (`pip install ./bindings/python`, which also builds libl2l.so). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(gcc g++ pkg-config libopenblas-dev zlib1g-dev pybind11-dev libpython3-dev dataset-fashion-mnist)
command -v python3 >/dev/null && python3 -m pip --version >/dev/null 2>&1 || packages+=(python3 python3-pip)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    if [ "$(id -u)" != 0 ]; then
        command -v sudo >/dev/null || { echo "setup: need root (or sudo) to install ${missing[*]}" >&2; exit 1; }
        sudo=sudo
    fi
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
command -v swift >/dev/null || { echo "setup: Swift not found (expected on PATH or at /opt/swift)" >&2; exit 1; }
# A Debian-managed Python refuses pip installs unless told otherwise (PEP 668); pyenv's does not care.
export PIP_BREAK_SYSTEM_PACKAGES=1
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore numpy pytest matplotlib scikit-learn
echo "setup: building libl2l.so and installing the Python module l2l"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --force-reinstall --no-deps ./bindings/python
