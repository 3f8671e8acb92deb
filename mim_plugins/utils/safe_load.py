"""Let torch's safe (``weights_only``) loader read mmengine checkpoints.

torch >= 2.6 loads with ``weights_only=True`` by default, and mmengine 0.10
calls ``torch.load`` without the argument, so loading or resuming a
checkpoint that mmengine itself wrote fails on the few non-tensor objects it
stores: the message hub's ``HistoryBuffer`` (whose statistics functions
pickle as ``getattr(HistoryBuffer, name)``), numpy scalars and arrays in the
logged metrics (with ``codecs.encode`` for their bytes) and ``ConfigDict``.
We allow-list exactly those for the safe unpickler, with ``getattr``
restricted to that one form; everything else (arbitrary callables, unknown
classes) is still refused, and no environment variable is needed.
"""
import codecs
import pickle

import numpy as np
import torch


def _numpy_globals() -> list:
    names = [np.ndarray, np.dtype]
    try:  # numpy < 2 pickles through numpy.core
        from numpy.core.multiarray import _reconstruct, scalar
    except ImportError:  # pragma: no cover
        from numpy._core.multiarray import _reconstruct, scalar
    names += [_reconstruct, scalar]
    # dtype instances pickle as their per-type classes (numpy >= 1.25)
    dtypes = getattr(np, 'dtypes', None)
    if dtypes is not None:
        for name in ('Float64DType', 'Float32DType', 'Float16DType',
                     'Int64DType', 'Int32DType', 'Int16DType', 'Int8DType',
                     'UInt8DType', 'BoolDType'):
            if hasattr(dtypes, name):
                names.append(getattr(dtypes, name))
    return names


def _history_buffer_getattr(obj, name: str):
    """``getattr`` restricted to what a pickled ``HistoryBuffer`` needs.

    A ``HistoryBuffer`` pickles its statistics functions (``min``, ``max``,
    ...) as ``getattr(HistoryBuffer, name)``. Only that form is accepted.
    """
    from mmengine.logging import HistoryBuffer
    if obj is HistoryBuffer and callable(getattr(HistoryBuffer, name, None)) \
            and not name.startswith('_'):
        return getattr(HistoryBuffer, name)
    raise pickle.UnpicklingError(
        f'Refusing getattr({obj!r}, {name!r}) while loading a checkpoint: '
        f'only HistoryBuffer statistics are allowed.')


def mmengine_safe_globals() -> list:
    """The exact classes and functions that mmengine checkpoints contain."""
    from mmengine.config import ConfigDict
    from mmengine.logging import HistoryBuffer
    return [
        ConfigDict, HistoryBuffer, codecs.encode, *_numpy_globals(),
        (_history_buffer_getattr, '__builtin__.getattr'),
        (_history_buffer_getattr, 'builtins.getattr'),
    ]


def register_safe_globals() -> None:
    """Allow-list mmengine's checkpoint contents for ``torch.load``."""
    add = getattr(torch.serialization, 'add_safe_globals', None)
    if add is not None:  # torch < 2.4 has no safe-globals list (nor the need)
        add(mmengine_safe_globals())
