import re
import subprocess
import sys

import l2l


def test_version_matches_header():
    assert re.fullmatch(r"\d+\.\d+\.\d+", l2l.__version__)
    assert l2l.__version__ == l2l._l2l.HEADER_VERSION == l2l.version()
    major, minor, patch = l2l._l2l.HEADER_VERSION_INFO
    assert l2l.__version__ == f"{major}.{minor}.{patch}"


def test_imports_from_another_directory_without_library_path(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", "import l2l; print(l2l.__version__)"],
                         cwd=tmp_path, env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == l2l.__version__


def test_exception_hierarchy():
    assert issubclass(l2l.InvalidArgumentError, (l2l.Error, ValueError))
    assert issubclass(l2l.InvalidArgumentError, ValueError)
    assert issubclass(l2l.ShapeError, ValueError)
    assert issubclass(l2l.NonFiniteError, ArithmeticError) and issubclass(l2l.NonFiniteError, ValueError)
    assert issubclass(l2l.FileError, OSError)
    assert issubclass(l2l.FormatError, ValueError)
    assert issubclass(l2l.StateError, RuntimeError)
    for cls in (l2l.InvalidArgumentError, l2l.ShapeError, l2l.NonFiniteError, l2l.FileError,
                l2l.FormatError, l2l.BufferTooSmallError, l2l.CancelledError, l2l.StateError,
                l2l.InternalError):
        assert issubclass(cls, l2l.Error)
        assert cls.__module__ == "l2l"
