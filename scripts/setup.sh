#!/usr/bin/env bash
# Installs what l2l needs on a fresh Debian machine with Swift at /opt/swift (or on PATH)
# and Python 3 with pip: the system libraries, Fashion-MNIST, OpenBLAS from PyPI's
# scipy-openblas32 wheel (copied to /usr/local with a pkg-config file, which `swift build`
# reads), and the Python module (`pip install ./bindings/python`, which also builds
# libl2l.so). Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/.."
# The OpenBLAS build l2l links (README: "Speed" says why).
openblas_version=0.3.34.481.3

packages=(gcc g++ pkg-config zlib1g-dev pybind11-dev libpython3-dev dataset-fashion-mnist)
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
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore numpy pytest matplotlib \
    "scipy-openblas32==$openblas_version"

# The BLAS: the wheel's library and headers under /usr/local, where the linker and the
# loader find them without an rpath, and a pkg-config file for Package.swift.
blas_dir="$(python3 -c 'import scipy_openblas32 as s; print(s.get_lib_dir())')"
blas_include="$(python3 -c 'import scipy_openblas32 as s; print(s.get_include_dir())')"
$sudo install -d /usr/local/lib/pkgconfig /usr/local/include/scipy_openblas32
$sudo install -m 644 "$blas_dir/libscipy_openblas.so" /usr/local/lib/
$sudo install -m 644 "$blas_include"/*.h /usr/local/include/scipy_openblas32/
$sudo tee /usr/local/lib/pkgconfig/scipy-openblas32.pc >/dev/null <<PC
prefix=/usr/local
libdir=\${prefix}/lib
includedir=\${prefix}/include

Name: scipy-openblas32
Description: OpenBLAS from PyPI's scipy-openblas32 wheel (LP64, symbols prefixed scipy_), for l2l
Version: $openblas_version
Libs: -L\${libdir} -lscipy_openblas
Cflags: -I\${includedir}
PC
$sudo ldconfig
echo "setup: building libl2l.so and installing the Python module l2l"
python3 -m pip install -q --disable-pip-version-check --root-user-action=ignore --force-reinstall --no-deps ./bindings/python
