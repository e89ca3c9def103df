"""Builds the l2l Python package: the Swift library, then the pybind11 shim over it.

`pip install ./bindings/python` (from the repository root) runs
`swift build -c release --product l2l` on the repository two directories up (libl2l.so
opens the OpenBLAS that scripts/setup.sh installs in /usr/local/lib), copies
libl2l.so into the package, and compiles l2l._l2l from src/l2l_module.cpp against
include/l2l.h with an rpath of $ORIGIN, so the installed module finds the copied library.

Environment variables:
  L2L_LIBRARY_DIR  use the libl2l.so in this directory instead of running swift build
  SWIFT            the swift executable (default: `swift` on PATH, else /opt/swift/usr/bin/swift)
"""

import ctypes.util
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

from setuptools import Extension, setup
from setuptools.command.build_ext import build_ext

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
HEADER = REPO / "include" / "l2l.h"
LIBRARY = "libl2l.so"


def header_version() -> str:
    if not HEADER.is_file():
        sys.exit(f"l2l: {HEADER} not found; build from a checkout of the l2l repository "
                 "(pip install ./bindings/python from its root)")
    match = re.search(r'#define\s+L2L_VERSION_STRING\s+"([^"]+)"', HEADER.read_text())
    if not match:
        sys.exit(f"l2l: no L2L_VERSION_STRING in {HEADER}")
    return match.group(1)


def pybind11_include() -> str:
    try:
        import pybind11
        return pybind11.get_include()
    except ImportError:
        return "/usr/include"  # Debian's pybind11-dev


def swift_executable() -> str:
    if os.environ.get("SWIFT"):
        return os.environ["SWIFT"]
    found = shutil.which("swift")
    if found:
        return found
    if Path("/opt/swift/usr/bin/swift").exists():
        return "/opt/swift/usr/bin/swift"
    sys.exit("l2l: swift not found; put it on PATH, set SWIFT, or set L2L_LIBRARY_DIR "
             "to a directory holding a built libl2l.so")


class BuildSwiftThenExt(build_ext):
    """Builds libl2l.so with SwiftPM, links the extension to it, ships it next to it."""

    def library_dir(self) -> Path:
        if os.environ.get("L2L_LIBRARY_DIR"):
            directory = Path(os.environ["L2L_LIBRARY_DIR"]).resolve()
        else:
            if ctypes.util.find_library("scipy_openblas") is None:
                sys.exit("l2l: the BLAS l2l opens (libscipy_openblas.so) is not installed; "
                         "run scripts/setup.sh from the repository root")
            swift = swift_executable()
            command = [swift, "build", "-c", "release", "--product", "l2l"]
            print("l2l: running", " ".join(command), "in", REPO, flush=True)
            subprocess.run(command, cwd=REPO, check=True, stdout=sys.stderr)
            directory = Path(subprocess.run(
                [swift, "build", "-c", "release", "--show-bin-path"],
                cwd=REPO, check=True, capture_output=True, text=True).stdout.strip())
        if not (directory / LIBRARY).is_file():
            sys.exit(f"l2l: {directory / LIBRARY} not found")
        return directory

    def run(self):
        directory = self.library_dir()
        for ext in self.extensions:
            ext.library_dirs.append(str(directory))
        super().run()
        # Next to the extension, wherever it went (build_lib, or the source tree with --inplace).
        for ext in self.extensions:
            target = Path(self.get_ext_fullpath(ext.name)).parent / LIBRARY
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(directory / LIBRARY, target)
            print(f"l2l: copied {directory / LIBRARY} to {target}", flush=True)


extension = Extension(
    "l2l._l2l",
    sources=["src/l2l_module.cpp"],
    include_dirs=[str(REPO / "include"), pybind11_include()],
    libraries=["l2l"],
    language="c++",
    extra_compile_args=["-std=c++17", "-O2", "-g0", "-fvisibility=hidden", "-Wall", "-Wextra"],
    extra_link_args=["-Wl,-rpath,$ORIGIN"],
    depends=[str(HEADER)],
)

setup(
    version=header_version(),
    ext_modules=[extension],
    cmdclass={"build_ext": BuildSwiftThenExt},
    zip_safe=False,
)
