"""Misuse of the private module l2l._l2l: objects made by `Class.__new__(Class)` without
`__init__` have no C handle behind them. Every method called on one, and every call that
takes one as an argument, raises l2l.InvalidArgumentError instead of reading garbage or
crashing. The classes are found in the module, so a class added later is covered too."""

import inspect

import pytest

import l2l
from l2l import _l2l

CLASSES = sorted(
    (c for c in vars(_l2l).values() if isinstance(c, type) and not issubclass(c, BaseException)),
    key=lambda c: c.__name__,
)


def uninitialised(cls):
    return cls.__new__(cls)


def instance_methods(cls):
    """Names of the public methods (not static ones) and properties of a class."""
    names = []
    for name, attribute in inspect.getmembers(cls):
        if name.startswith("_") or isinstance(inspect.getattr_static(cls, name), staticmethod):
            continue
        if callable(attribute) or isinstance(attribute, property):
            names.append(name)
    return names


def test_the_module_has_the_handle_classes():
    names = {c.__name__ for c in CLASSES}
    assert {"Dataset", "Learner", "Optimizer", "Learned", "MetaTrainer", "MLHF"} <= names


def test_the_issue_reproducer_raises():
    with pytest.raises(l2l.InvalidArgumentError, match="never initialised"):
        _l2l.Learner.__new__(_l2l.Learner).info()


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_every_method_of_an_uninitialised_object_raises(cls):
    obj = uninitialised(cls)
    for name in instance_methods(cls):
        attribute = inspect.getattr_static(cls, name)
        with pytest.raises(l2l.InvalidArgumentError, match="never initialised"):
            if isinstance(attribute, property):
                attribute.fget(obj)
            else:
                # Too few arguments would be a TypeError before `self` is looked at, so
                # each method gets as many None arguments as its signature has.
                call_with_nones(getattr(obj, name))


def call_with_nones(method):
    for count in range(8):
        try:
            return method(*([None] * count))
        except TypeError as e:
            if "incompatible function arguments" not in str(e):
                raise
    pytest.fail(f"{method} accepts no argument count up to 7")


def test_an_uninitialised_argument_raises():
    learner = l2l.MLP([2, 3, 2])
    optimizer = _l2l.Optimizer("sgd", "lr=0.1")
    with pytest.raises(l2l.InvalidArgumentError, match="never initialised"):
        optimizer.step(uninitialised(_l2l.Learner))
    with pytest.raises(l2l.InvalidArgumentError, match="never initialised"):
        uninitialised(_l2l.Optimizer).step(learner._handle)
    learned = _l2l.Learned("lstm", None, None, 0)
    with pytest.raises(l2l.InvalidArgumentError, match="never initialised"):
        _l2l.MetaTrainer.from_tasks(learned, [uninitialised(_l2l.CallbackTask)])
