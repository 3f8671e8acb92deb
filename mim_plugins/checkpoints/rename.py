"""The one renamer every checkpoint layout goes through.

A layout is an ordered table of rules ``(pattern, target)``, as timm's
``checkpoint_filter_fn``: ``pattern`` is a regular expression that must
match the whole key; the first rule that matches decides:

- a ``str`` target is the new key (``\\1``, ``\\g<name>`` expand the groups);
- :class:`Drop` leaves the key out and records it in ``dropped`` with the
  reason;
- :class:`Refuse` raises :class:`LayoutError` (a key of an architecture that
  the target backbone does not have).

Keys that no rule matches are returned, not guessed at. Tensor transforms
that are not renames (splitting ``qkv.bias``, re-ordering a patch merging)
are explicit steps after the renaming; :attr:`Renamed.origin` names the
source key of every new one.
"""
import functools
import re
from collections import OrderedDict
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Sequence, Tuple, Union

import torch

from .common import LayoutError

Tensor = torch.Tensor


@dataclass(frozen=True)
class Drop:
    """Target of a rule: leave the key out, for ``reason``."""
    reason: str


@dataclass(frozen=True)
class Refuse:
    """Target of a rule: the key is an error; ``message`` may use
    ``{key}``."""
    message: str


Target = Union[str, Drop, Refuse]
Rules = Sequence[Tuple[str, Target]]


@dataclass
class Renamed:
    """What :func:`rename` made of a state dict."""
    state: 'OrderedDict[str, Tensor]'
    origin: Dict[str, str] = field(default_factory=dict)
    unmatched: List[str] = field(default_factory=list)


@functools.lru_cache(maxsize=None)
def _compiled(rules: Tuple[Tuple[str, Target], ...]):
    return [(re.compile(pattern), target) for pattern, target in rules]


def rename(state: Mapping[str, Tensor], rules: Rules,
           dropped: Dict[str, str]) -> Renamed:
    """Apply ``rules`` to every key of ``state`` (see the module doc);
    dropped keys go to ``dropped``, unmatched ones to ``.unmatched``."""
    out = Renamed(OrderedDict())
    compiled = _compiled(tuple(rules))
    for key, value in state.items():
        for rx, target in compiled:
            match = rx.fullmatch(key)
            if match is None:
                continue
            if isinstance(target, Drop):
                dropped[key] = target.reason
            elif isinstance(target, Refuse):
                raise LayoutError(target.message.format(key=key))
            else:
                new = match.expand(target)
                out.state[new] = value
                out.origin[new] = key
            break
        else:
            out.unmatched.append(key)
    return out


def rename_all(state: Mapping[str, Tensor], rules: Rules,
               dropped: Dict[str, str], what: str,
               verb: str = 'place') -> Renamed:
    """:func:`rename`, and a key no rule matches is a :class:`LayoutError`
    (``Cannot place the {what} key ...``)."""
    out = rename(state, rules, dropped)
    if out.unmatched:
        raise LayoutError(f'Cannot {verb} the {what} key '
                          f'{out.unmatched[0]!r}.')
    return out


def templates(pairs: Sequence[Tuple[str, str]], reverse: bool = False
              ) -> Tuple[Tuple[str, str], ...]:
    """Rules from name templates, usable both ways: ``{p}`` is any rest of
    the key, another ``{x}`` an integer; ``reverse`` maps the second name
    of each pair to the first."""
    def pattern(name: str) -> str:
        parts = re.split(r'\{(\w)\}', name)
        return ''.join(
            re.escape(part) if i % 2 == 0 else
            (f'(?P<{part}>.+)' if part == 'p' else f'(?P<{part}>\\d+)')
            for i, part in enumerate(parts))

    def replacement(name: str) -> str:
        return re.sub(r'\{(\w)\}', r'\\g<\1>', name)

    return tuple((pattern(b), replacement(a)) if reverse else
                 (pattern(a), replacement(b)) for a, b in pairs)


def replace_key(state: 'OrderedDict[str, Tensor]', key: str,
                items: Sequence[Tuple[str, Tensor]]) -> None:
    """Put ``items`` where ``key`` is in ``state`` (its order kept)."""
    new = OrderedDict()
    for k, v in state.items():
        if k == key:
            new.update(items)
        else:
            new[k] = v
    state.clear()
    state.update(new)


_QKV_BIAS = re.compile(r'(.*layers\.\d+\.attn\.)qkv\.bias')


def split_qkv_biases(renamed: Renamed, dropped: Dict[str, str],
                     reason: str) -> None:
    """Post-step: every ``layers.i.attn.qkv.bias`` -> ``q_bias`` and
    ``v_bias`` (in its place); the key bias is listed in ``dropped`` as
    ``SOURCE[k]``."""
    new = OrderedDict()
    for key, value in renamed.state.items():
        match = _QKV_BIAS.fullmatch(key)
        if match is None:
            new[key] = value
            continue
        q, _, v = value.chunk(3)
        new[match.group(1) + 'q_bias'], new[match.group(1) + 'v_bias'] = q, v
        dropped[renamed.origin.get(key, key) + '[k]'] = reason
    renamed.state.clear()
    renamed.state.update(new)


__all__ = ['Drop', 'Refuse', 'Renamed', 'rename', 'rename_all', 'templates',
           'replace_key', 'split_qkv_biases']
