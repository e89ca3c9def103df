"""The README's Python examples marked as run by this file, run as written."""

import importlib.util
import os
import pathlib
import re

README = pathlib.Path(__file__).resolve().parents[3] / "README.md"


def marked_blocks():
    text = README.read_text()
    return re.findall(r"<!-- run by bindings/python/tests/test_readme.py -->\s*```python\n(.*?)```", text, re.S)


def test_the_marked_readme_examples_run():
    blocks = marked_blocks()
    assert blocks, "no marked example in the README"
    for code in blocks:
        if "import torch" in code and importlib.util.find_spec("torch") is None and os.environ.get("CI") != "true":
            continue  # the test setup installs PyTorch; without it here, the torch example is skipped
        namespace = {}
        exec(compile(code, str(README), "exec"), namespace)
        if "loss_and_grad" in namespace and "params" in namespace:
            first = namespace["loss_and_grad"]([p * 0 for p in namespace["params"]], 0)[0]
            last = namespace["loss_and_grad"](namespace["params"], 0)[0]
            assert last < first, (first, last)
        if "loss" in namespace and "model" in namespace:
            assert float(namespace["loss"].detach()) < 1.0
