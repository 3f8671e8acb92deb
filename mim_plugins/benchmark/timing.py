"""Time of each training step (``model.train_step``)."""
import time
from typing import List, Tuple

import torch


def sync(device: str) -> None:
    """Wait for the device's queued work, so a clock reading covers it."""
    if device == 'cuda':
        torch.cuda.synchronize()


def time_steps(model, batches: List[dict], optim_wrapper,
               device: str) -> Tuple[List[float], List[float]]:
    """Seconds of ``model.train_step`` on each batch (data preprocessor,
    forward, backward, optimizer step; synchronised on CUDA) and the loss
    each step logged."""
    times, losses = [], []
    for batch in batches:
        sync(device)
        start = time.perf_counter()
        log_vars = model.train_step(batch, optim_wrapper)
        sync(device)
        times.append(time.perf_counter() - start)
        losses.append(float(
            torch.as_tensor(log_vars['loss']).detach()))
    return times, losses
