"""What mim_plugins' command-line tools do before they import anything.

Importing the OpenMMLab stack prints warnings that a user cannot act on
(mmengine imports ``pkg_resources``; mmpretrain calls ``torch.meshgrid``
without ``indexing``), once per process: a demo run printed the first seven
times. The tools in ``tools/`` call :func:`quiet_upstream_warnings` first;
``import mim_plugins`` does not, so a user's own program sees every warning.
Our own warnings (a config adapted to a machine without CUDA, say) stay.
"""
import builtins
import os
import re
import warnings

#: (start of the message, category) of the upstream warnings hidden; no
#: ':' or ',' in a message (the PYTHONWARNINGS separators)
UPSTREAM_WARNINGS = [
    ('pkg_resources is deprecated as an API', 'UserWarning'),
    ('Deprecated call to `pkg_resources.declare_namespace',
     'DeprecationWarning'),
    ('torch.meshgrid', 'UserWarning'),
]


def quiet_upstream_warnings() -> None:
    """Ignore :data:`UPSTREAM_WARNINGS` in this process and, through
    ``PYTHONWARNINGS``, in the processes it starts (the demo's workers,
    the ranks of a distributed run)."""
    specs = []
    for message, category in UPSTREAM_WARNINGS:
        warnings.filterwarnings('ignore', message=re.escape(message),
                                category=getattr(builtins, category))
        specs.append(f'ignore:{message}:{category}')
    old = [s for s in os.environ.get('PYTHONWARNINGS', '').split(',') if s]
    os.environ['PYTHONWARNINGS'] = ','.join(
        old + [s for s in specs if s not in old])
