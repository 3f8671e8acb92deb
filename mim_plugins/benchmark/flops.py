"""FLOPs per image of a training step and the model FLOPs utilisation."""
import math
import warnings
from typing import Any, Dict, List, Optional, Tuple

import torch

from .loss import reduce_loss

#: dense peak TFLOP/s (bf16/fp16 tensor cores, fp32 without TF32), matched
#: on the CUDA device name, most specific first
PEAK_TFLOPS: Tuple[Tuple[str, float, float], ...] = (
    ('H100 PCIe', 756.5, 51.2),
    ('H100 NVL', 835.5, 59.8),
    ('H100', 989.4, 66.9),
    ('H200', 989.4, 66.9),
    ('A100', 312.0, 19.5),
)


def peak_tflops(device_name: Optional[str], precision: str) -> Optional[float]:
    """Dense peak of a known GPU for ``precision``; None if unknown."""
    if not device_name:
        return None
    for key, half, fp32 in PEAK_TFLOPS:
        if key.lower() in device_name.lower():
            return fp32 if precision == 'fp32' else half
    return None


def mfu(train_flops_per_image: Optional[float], images_per_s: float,
        device_name: Optional[str], precision: str) -> Optional[float]:
    """Model FLOPs utilisation: achieved training FLOP/s over the device's
    dense peak for ``precision``; None for an unknown device."""
    peak = peak_tflops(device_name, precision)
    if not peak or not train_flops_per_image:
        return None
    return train_flops_per_image * images_per_s / (peak * 1e12)


def _sdpa_flop_jit(inputs, outputs) -> int:
    """Multiply-adds of ``scaled_dot_product_attention``: QK^T and AV."""
    from mmengine.analysis.jit_handles import get_shape
    q, k, v = (get_shape(x) for x in inputs[:3])
    batch = math.prod(q[:-2])
    return batch * q[-2] * k[-2] * (q[-1] + v[-1])


class _LossForward(torch.nn.Module):
    """The algorithm's loss on fixed data samples, as one traceable
    forward(inputs) -> loss."""

    def __init__(self, model, data_samples):
        super().__init__()
        self.model = model
        self.data_samples = data_samples

    def forward(self, inputs):
        return reduce_loss(self.model,
                           self.model.loss(inputs, self.data_samples))


def count_flops(model, batch: dict, max_images: int = 2) -> Dict[str, Any]:
    """Forward FLOPs per image of the algorithm's loss with a fixed mask.

    mmengine's ``FlopAnalyzer`` (fvcore's counting: one multiply-add is one
    "flop") traces ``model.loss`` on the first ``max_images`` images of the
    batch, with its data samples (masks) fixed, and a handler for
    ``scaled_dot_product_attention``; FLOPs = 2 x multiply-adds; training
    FLOPs ~= 3 x forward FLOPs (forward + backward). A model that cannot be
    traced (SparK's in-place ``scatter_`` of a bool) is counted by torch's
    ``FlopCounterMode`` on the same forward instead (``method`` says which).
    """
    from mmengine.analysis import FlopAnalyzer
    data = model.data_preprocessor(batch, True)
    inputs, samples = data['inputs'], data['data_samples']
    inputs = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
    n = min(max_images, inputs.shape[0])
    wrapper = _LossForward(model, samples[:n])
    out: Dict[str, Any] = dict(traced_images=n)
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter('ignore')
        try:
            analyzer = FlopAnalyzer(wrapper, (inputs[:n], ))
            analyzer.set_op_handle(
                'aten::scaled_dot_product_attention', _sdpa_flop_jit)
            analyzer.unsupported_ops_warnings(False)
            analyzer.uncalled_modules_warnings(False)
            analyzer.tracer_warnings('none')
            macs = analyzer.total() / n
            by_module = analyzer.by_module()
            frozen = sum(by_module.get(f'model.{name}', 0)
                         for name in _frozen_children(model)) / n
            out.update(method='mmengine.analysis.FlopAnalyzer',
                       frozen_fwd_macs_per_image=frozen,
                       unsupported_ops=dict(analyzer.unsupported_ops()))
        except Exception as exc:
            from torch.utils.flop_counter import FlopCounterMode
            counter = FlopCounterMode(display=False)
            with counter:
                wrapper(inputs[:n])
            macs = counter.get_total_flops() / 2 / n
            frozen = 0.
            out.update(method='torch FlopCounterMode (the jit trace failed)',
                       trace_error=f'{type(exc).__name__}: '
                       f'{str(exc).splitlines()[0][:200]}')
    # forward + backward (2x forward) of what is trained; forward only of
    # frozen parts (MaskDistill's teacher)
    out.update(fwd_macs_per_image=macs, fwd_flops_per_image=2 * macs,
               train_flops_per_image=2 * (3 * macs - 2 * frozen))
    return out


def _frozen_children(model) -> List[str]:
    """Top-level parts of the model with weights, none of them trained."""
    return [name for name, child in model.named_children()
            if any(True for _ in child.parameters())
            and not any(p.requires_grad for p in child.parameters())]


def count_step_flops(model, batch: dict, optim_wrapper) -> float:
    """FLOPs of one real training step (forward + backward, as torch's
    ``FlopCounterMode`` counts them: matmuls, convolutions, attention) per
    image; a check of the 3x-forward estimate. It counts the backward of a
    grouped (depthwise) convolution ``groups`` times over, so for ConvNeXts
    it overstates the step several-fold: trust the 3x-forward estimate."""
    from torch.utils.flop_counter import FlopCounterMode
    counter = FlopCounterMode(display=False)
    with counter:
        model.train_step(batch, optim_wrapper)
    n = len(batch['data_samples'])
    return counter.get_total_flops() / n
