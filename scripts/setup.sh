#!/usr/bin/env bash
# Installs what l2l needs on a fresh Debian machine with Swift at /opt/swift (or on PATH)
# and Python 3 with pip: the system libraries, Fashion-MNIST, and the Python module
# (`pip install ./bindings/python`, which also builds libl2l.so). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(pkg-config libopenblas-dev zlib1g-dev pybind11-dev libpython3-dev dataset-fashion-mnist)
missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
if ((${#missing[@]})); then
    sudo=""
    [ "$(id -u)" = 0 ] || sudo=sudo
    echo "setup: installing ${missing[*]}"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >/dev/null
fi

command -v swift >/dev/null || export PATH=/opt/swift/usr/bin:$PATH
python3 -m pip install -q --disable-pip-version-check numpy pytest
echo "setup: building libl2l.so and installing the Python module l2l"
python3 -m pip install -q --disable-pip-version-check --force-reinstall --no-deps ./bindings/python
