"""mmengine checkpoints load with torch's safe loader; other pickles do not."""
import os

import pytest
import torch
from mmengine.logging import HistoryBuffer


class _Evil:
    def __reduce__(self):
        return (os.system, ('echo unsafe',))


class _EvilGetattr:
    def __reduce__(self):
        return (getattr, (HistoryBuffer, '__init__'))


def test_message_hub_state_loads_safely(tmp_path):
    import numpy as np
    from mmengine.config import ConfigDict
    buf = HistoryBuffer()
    buf.update(np.float64(1.5))
    state = dict(hub=dict(log_scalars={'train/loss': buf}),
                 meta=dict(cfg=ConfigDict(a=1), seed=np.int64(3),
                           arr=np.arange(3.0)))
    torch.save(state, tmp_path / 'ok.pth')
    out = torch.load(tmp_path / 'ok.pth')  # weights_only by default
    assert out['hub']['log_scalars']['train/loss'].mean() == 1.5
    assert out['meta']['cfg'].a == 1 and out['meta']['seed'] == 3


@pytest.mark.parametrize('obj', [_Evil(), _EvilGetattr()])
def test_arbitrary_pickles_are_still_refused(tmp_path, obj):
    torch.save({'x': obj}, tmp_path / 'evil.pth')
    with pytest.raises(Exception, match='(blocked|Refusing|Unsupported|not an allowed)'):
        torch.load(tmp_path / 'evil.pth')
