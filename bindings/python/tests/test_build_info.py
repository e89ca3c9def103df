import os
import re
import subprocess
import sys

import l2l


def test_build_info_reports_version_and_blas():
    info = l2l.build_info()
    assert info["version"] == l2l.__version__
    assert info["configuration"] == "release"   # setup.py builds libl2l.so in release
    assert int(info["cores"]) >= 1
    assert info["kernels"] in ("avx512", "avx2", "baseline") and int(info["kernel_threads"]) >= 1
    assert info["blas"] == "OpenBLAS"
    assert re.fullmatch(r"\d+\.\d+\.\d+(\.\d+)*", info["blas_version"])
    assert info["blas_core"] not in ("", "Unknown")
    # OpenBLAS's own configuration text names its version and the kernel in use.
    assert info["blas_version"] in info["blas_config"] and info["blas_core"] in info["blas_config"]
    assert info["blas_library"].endswith(".so") and "openblas" in info["blas_library"]


def test_build_info_after_numpy_loaded_its_own_blas():
    # numpy's OpenBLAS is already in the process when l2l loads; l2l keeps its own library
    # (other symbol names), whose kernel it reports.
    code = ("import numpy; numpy.ones((64, 64), numpy.float32) @ numpy.ones((64, 64), numpy.float32); "
            "import l2l; info = l2l.build_info(); print(info['blas_library']); print(info['blas_version'])")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout.split()
    info = l2l.build_info()
    assert out == [info["blas_library"], info["blas_version"]]
    assert "numpy" not in out[0]


def test_l2l_blas_coretype_forces_the_kernel():
    # The variable is read when l2l opens its BLAS, so a fresh process is needed.
    code = "import l2l; print(l2l.build_info()['blas_core'])"
    env = dict(os.environ, L2L_BLAS_CORETYPE="Haswell")
    forced = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert forced.stdout.strip() == "Haswell"


def test_blas_threads_respect_both_thread_variables():
    # Large products run on kernel_threads threads, but never on more than the BLAS was
    # allowed when it opened: either variable set to 1 keeps l2l on one core.
    code = "import l2l; i = l2l.build_info(); print(i['blas_threads'], i['kernel_threads'], i['cores'])"

    def report(**variables):
        env = {k: v for k, v in os.environ.items()
               if k not in ("L2L_NUM_THREADS", "OPENBLAS_NUM_THREADS", "GOTO_NUM_THREADS", "OMP_NUM_THREADS",
                            "OPENBLAS_DEFAULT_NUM_THREADS")}
        env.update(variables)
        out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
        return [int(v) for v in out.stdout.split()]

    blas, kernels, cores = report()
    assert kernels == cores and 1 <= blas <= kernels
    assert report(OPENBLAS_NUM_THREADS="1")[0] == 1
    assert report(OMP_NUM_THREADS="1")[0] == 1
    assert report(L2L_NUM_THREADS="1")[:2] == [1, 1]
