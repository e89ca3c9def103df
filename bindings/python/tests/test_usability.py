"""Small usability promises: a loaded optimiser's options rebuild it, and progress bars
written to a log are lines, not thousands of redrawn frames."""

import io

import l2l
from l2l.training import _TextBar


def test_a_loaded_optimizers_options_rebuild_it(tmp_path):
    opt = l2l.learned.LSTMOptimizer(preset="mtl2l", init_scales=[0.5, 0.25], rms_decay=0.99, seed=3)
    path = tmp_path / "lstm.safetensors"
    opt.save(path)
    loaded = l2l.learned.load(path)
    assert loaded.options["init_scales"] in ("0.5,0.25", [0.5, 0.25])
    assert loaded.options["rms_decay"] == 0.99
    again = l2l.learned.LSTMOptimizer(**loaded.options)
    assert again.options_text == loaded.options_text == opt.options_text
    adam = l2l.learned.LSTMOptimizer(preset="mtl2l", inputs="adam", beta1=0.9, squash=1, odd=1, seed=3)
    adam.save(path)
    loaded = l2l.learned.load(path)
    assert (loaded.options["inputs"], loaded.options["beta1"], loaded.options["squash"], loaded.options["odd"]) == ("adam", 0.9, 1, 1)
    assert l2l.learned.LSTMOptimizer(**loaded.options).options_text == adam.options_text


class _Terminal(io.StringIO):
    def isatty(self):
        return True


def test_the_text_bar_prints_lines_to_a_log_and_redraws_on_a_terminal():
    log = io.StringIO()
    bar = _TextBar(5000, stream=log)
    for step in range(1, 5001):
        bar.update(step, 0.5)
    bar.close()
    text = log.getvalue()
    assert "\r" not in text
    assert 1 <= text.count("\n") <= 3, text
    assert "5000/5000" in text

    screen = _Terminal()
    bar = _TextBar(3, stream=screen, interval=0)
    for step in range(1, 4):
        bar.update(step, 0.5)
    bar.close()
    assert screen.getvalue().count("\r") == 3 and screen.getvalue().endswith("\n")


def test_loading_a_device_is_a_clear_error_not_a_hang():
    import pytest

    with pytest.raises(l2l.FileError, match="not a regular file"):
        l2l.learned.load("/dev/zero")
    with pytest.raises(l2l.FileError, match="not a regular file"):
        l2l.load_idx("/dev/zero", "/dev/zero")


def test_complex_values_and_nul_bytes_in_paths_are_refused(tmp_path):
    import numpy as np
    import pytest

    net = l2l.MLP([2, 3, 2], seed=0)
    with pytest.raises(l2l.InvalidArgumentError, match="complex"):
        net.loss_and_grad(np.ones((2, 2), dtype=np.complex64), [0, 1])
    opt = l2l.learned.LSTMOptimizer()
    path = tmp_path / "a.st"
    opt.save(path)
    with pytest.raises(l2l.InvalidArgumentError, match="NUL"):
        l2l.learned.load(str(path) + "\x00ignored")
    with pytest.raises(l2l.InvalidArgumentError, match="NUL"):
        opt.save(str(tmp_path / "b.st") + "\x00x")


def test_mlp_sizes_must_be_whole_numbers():
    import pytest

    with pytest.raises(l2l.InvalidArgumentError, match="whole numbers"):
        l2l.MLP([4, 3.7, 2])
    with pytest.raises(l2l.InvalidArgumentError, match="2 classes"):
        l2l.MLP([4, 3, 1])
    assert l2l.MLP([4, 3.0, 2]).sizes == [4, 3, 2]
