"""The random states a training process consumes, to save and restore them.

A run draws from four generators in its main process: Python's ``random``,
NumPy's global generator (mmpretrain's transforms and our mask generators
when ``num_workers=0``), torch's CPU generator (drop path, dropout, the
DataLoader's worker seeds) and, with CUDA, one generator per device.
:func:`capture` takes a copy of all four; :func:`restore` puts it back, so a
resumed run continues from the state the interrupted one had.
"""
import random
from typing import Dict

import numpy as np
import torch


def capture() -> Dict:
    """The state of every random generator of this process."""
    name, key, pos, has_gauss, gauss = np.random.get_state()
    # numpy's key as a tensor: a checkpoint then holds only what torch's
    # safe loader reads (tensors and Python numbers)
    state = dict(python=random.getstate(),
                 numpy=(name, torch.from_numpy(key.astype(np.int64)), pos,
                        has_gauss, gauss),
                 torch=torch.get_rng_state())
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state['cuda'] = torch.cuda.get_rng_state_all()
    return state


def restore(state: Dict) -> None:
    """Set every generator to ``state`` (from :func:`capture`)."""
    random.setstate(_python_state(state['python']))
    name, key, pos, has_gauss, gauss = state['numpy']
    np.random.set_state((name, np.asarray(key, dtype=np.int64).astype(
        np.uint32), pos, has_gauss, gauss))
    torch.set_rng_state(torch.as_tensor(state['torch'], dtype=torch.uint8))
    cuda = state.get('cuda')
    if cuda is not None and torch.cuda.is_available():
        if len(cuda) == torch.cuda.device_count():
            torch.cuda.set_rng_state_all(
                [torch.as_tensor(s, dtype=torch.uint8) for s in cuda])


def _python_state(state):
    """``random.getstate()`` after a round trip through a checkpoint: the
    inner tuple may come back as a list."""
    version, internal, gauss = state
    return version, tuple(internal), gauss


class fork:
    """A context in which random draws do not change the generators outside
    it: validation inside a training run leaves the training draws as an
    uninterrupted run without validation would make them."""

    def __enter__(self):
        self._state = capture()
        return self

    def __exit__(self, *exc):
        restore(self._state)
        return False
