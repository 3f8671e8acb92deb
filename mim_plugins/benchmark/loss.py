"""The loss's share of a step: the head's call captured from a real
forward, then timed alone (forward + backward) on detached copies."""
import time
from typing import List

import torch

from .timing import sync


def map_tensors(obj, fn):
    """``obj`` with ``fn`` applied to every tensor in nested lists, tuples
    and dicts."""
    if isinstance(obj, torch.Tensor):
        return fn(obj)
    if isinstance(obj, (list, tuple)):
        return type(obj)(map_tensors(o, fn) for o in obj)
    if isinstance(obj, dict):
        return {k: map_tensors(v, fn) for k, v in obj.items()}
    return obj


def capture_head_call(model, batch: dict, optim_wrapper):
    """Run one training forward and return the outermost call of the head
    (``head.loss`` or ``head.forward``): ``(method, args, kwargs)``."""
    head = model.head
    calls, depth = [], [0]

    def wrap(method):
        def recorded(*args, **kwargs):
            depth[0] += 1
            try:
                out = method(*args, **kwargs)
            finally:
                depth[0] -= 1
            if depth[0] == 0 and not calls:
                # keep the shapes and which inputs need a gradient, not
                # the forward graph
                calls.append((method, *map_tensors(
                    (args, kwargs), lambda t: t.detach().requires_grad_(
                        t.requires_grad and t.is_floating_point()))))
            return out
        return recorded

    # instance attributes shadow the methods (``head.loss`` may also be a
    # loss module, as SparK's: then only ``forward`` is recorded)
    patched = [name for name in ('loss', 'forward')
               if callable(getattr(head, name, None))
               and not isinstance(getattr(head, name), torch.nn.Module)]
    for name in patched:
        head.__dict__[name] = wrap(getattr(head, name))
    try:
        with optim_wrapper.optim_context(model):
            data = model.data_preprocessor(batch, True)
            model._run_forward(data, mode='loss')
    finally:
        for name in patched:  # back to the class methods
            del head.__dict__[name]
    if not calls:
        raise RuntimeError(f'{type(model).__name__} did not call its head')
    return calls[0]


def reduce_loss(model, out) -> torch.Tensor:
    """One scalar from a loss dict (as the model sums it) or tensor."""
    if isinstance(out, dict):
        return model.parse_losses(out)[0]
    return out if out.dim() == 0 else out.sum()


def time_loss(model, call, optim_wrapper, device: str, warmup: int,
              steps: int) -> List[float]:
    """Times of the head's loss, forward + backward, on detached copies of
    the captured inputs (those that needed a gradient get one), in the same
    autocast context as the training step."""
    method, args, kwargs = call
    times = []
    for i in range(warmup + steps):
        a, k = map_tensors(
            (args, kwargs),
            lambda t: t.detach().clone().requires_grad_(t.requires_grad))
        sync(device)
        start = time.perf_counter()
        with optim_wrapper.optim_context(model):
            loss = reduce_loss(model, method(*a, **k))
        loss.backward()
        sync(device)
        if i >= warmup:
            times.append(time.perf_counter() - start)
    model.zero_grad(set_to_none=True)
    return times
