"""Peak memory of the timed steps: CUDA's allocator peak, or the sampled
process RSS on the CPU."""
import contextlib
import ctypes
import gc
import os
import threading

import torch


def trim_heap() -> None:
    """Free what the last entry left (Python, CUDA cache, the C heap)."""
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    try:  # give freed heap pages back, so RSS baselines are comparable
        ctypes.CDLL('libc.so.6').malloc_trim(0)
    except (OSError, AttributeError):
        pass


def _rss_bytes() -> int:
    with open('/proc/self/statm') as f:
        return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')


class PeakMemory:
    """Peak memory of a block.

    On CUDA: ``torch.cuda.max_memory_allocated``; on the CPU: the process
    RSS sampled every ``interval`` s by a thread (``/proc/self/statm``).
    ``baseline`` is taken at construction (before the model is built), so
    the peak counts weights, gradients, optimizer state and activations.
    """

    def __init__(self, device: str, interval: float = 0.002) -> None:
        self.device = device
        self.interval = interval
        self.peak = 0
        trim_heap()
        if device == 'cuda':
            self.method = 'torch.cuda.max_memory_allocated minus allocated ' \
                          'before the model was built'
            self.baseline = torch.cuda.memory_allocated()
        else:
            self.method = 'peak process RSS (sampled every 2 ms) minus RSS ' \
                          'before the model was built'
            self.baseline = _rss_bytes()

    @contextlib.contextmanager
    def measure(self):
        if self.device == 'cuda':
            torch.cuda.reset_peak_memory_stats()
            yield
            self.peak = max(self.peak, torch.cuda.max_memory_allocated())
            return
        stop = threading.Event()

        def sample():
            while not stop.is_set():
                self.peak = max(self.peak, _rss_bytes())
                stop.wait(self.interval)

        thread = threading.Thread(target=sample, daemon=True)
        thread.start()
        try:
            yield
        finally:
            stop.set()
            thread.join()
            self.peak = max(self.peak, _rss_bytes())

    @property
    def delta_mib(self) -> float:
        return (self.peak - self.baseline) / 2**20
