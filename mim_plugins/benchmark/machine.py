"""The machine and software the numbers were measured on."""
import os
import platform
from typing import Any, Dict

import torch

from .flops import peak_tflops


def machine_info(device: str, precision: str) -> Dict[str, Any]:
    """CPU, GPU, load and library versions, for the JSON and the table."""
    import mmengine
    import mmpretrain
    cpu = platform.processor() or platform.machine()
    try:
        with open('/proc/cpuinfo') as f:
            for line in f:
                if line.startswith('model name'):
                    cpu = line.split(':', 1)[1].strip()
                    break
    except OSError:
        pass
    info = dict(
        cpu_model=cpu, cpu_count=os.cpu_count(),
        cpus_usable=len(os.sched_getaffinity(0))
        if hasattr(os, 'sched_getaffinity') else os.cpu_count(),
        torch_threads=torch.get_num_threads(),
        load_average=os.getloadavg() if hasattr(os, 'getloadavg') else None,
        python=platform.python_version(), torch=torch.__version__,
        mmengine=mmengine.__version__, mmpretrain=mmpretrain.__version__,
        platform=platform.platform(), device=device, precision=precision,
        gpu=None, cuda=torch.version.cuda)
    if device == 'cuda':
        props = torch.cuda.get_device_properties(0)
        info.update(gpu=props.name, gpu_memory_gib=props.total_memory / 2**30,
                    peak_tflops=peak_tflops(props.name, precision))
    return info
