"""Which checkpoints of a work dir are whole, and writes that a crash cannot
leave half done under a real name.

``torch.save`` writes a zip archive whose directory comes last, so a file cut
short by a crash or a full disk is not a valid zip; a damaged byte inside is
caught by the archive's CRCs. Both are checked without unpickling anything.
"""
import glob
import os
import os.path as osp
import re
import zipfile
from typing import List, Optional, Tuple

#: the names mmengine's CheckpointHook gives the checkpoints it writes
_RUNNER_CHECKPOINT = re.compile(r'^(epoch|iter)_\d+\.pth$|^best_.*\.pth$')


def damage(path: str) -> Optional[str]:
    """``None`` if ``path`` is a whole checkpoint written by ``torch.save``,
    else why it is not (a phrase such as 'it is empty (0 bytes)').
    Directories (the sharded checkpoints of DeepSpeed or FSDP) are taken as
    they are."""
    if not osp.exists(path):
        return 'it does not exist'
    if osp.isdir(path):
        return None
    size = osp.getsize(path)
    if size == 0:
        return 'it is empty (0 bytes)'
    try:
        with zipfile.ZipFile(path) as archive:
            bad = archive.testzip()
    except zipfile.BadZipFile:
        return (f'it is truncated or damaged ({size} bytes that are not a '
                f'complete torch.save archive)')
    except OSError as e:
        return f'it cannot be read ({e})'
    if bad is not None:
        return f'its member {bad} is damaged (CRC mismatch)'
    return None


def named_last_checkpoint(work_dir: str) -> Optional[str]:
    """The checkpoint that ``work_dir/last_checkpoint`` names, if any."""
    marker = osp.join(work_dir, 'last_checkpoint')
    if not osp.isfile(marker):
        return None
    with open(marker) as f:
        name = f.read().strip()
    return name or None


def newest_intact(work_dir: str) -> Tuple[Optional[str], List[Tuple[str,
                                                                    str]]]:
    """The newest whole checkpoint a run left in ``work_dir``, and the newer
    ones passed over with the reason for each.

    The one ``last_checkpoint`` names comes first, then the other
    ``epoch_N``/``iter_N``/``best_*`` checkpoints beside it, newest first.
    """
    named = named_last_checkpoint(work_dir)
    folders = {osp.abspath(work_dir)}
    if named is not None:
        folders.add(osp.dirname(osp.abspath(named)))
    found = [p for d in folders for p in glob.glob(osp.join(d, '*.pth'))
             if _RUNNER_CHECKPOINT.match(osp.basename(p))]
    found.sort(key=lambda p: (osp.getmtime(p), p), reverse=True)
    order = ([named] if named is not None else []) + [
        p for p in found
        if named is None or osp.abspath(p) != osp.abspath(named)]
    skipped = []
    for path in order:
        why = damage(path)
        if why is None:
            return path, skipped
        skipped.append((path, why))
    return None, skipped


def write_text_atomic(path: str, text: str) -> None:
    """Write ``text`` to ``path`` through a temporary file and a rename, so
    ``path`` always holds either the old text or the new one."""
    tmp = partial_name(path)
    with open(tmp, 'w') as f:
        f.write(text)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def partial_name(path: str) -> str:
    """Where ``path`` is written before it is complete: a hidden name in the
    same folder (so the final rename never crosses file systems) that no
    checkpoint search picks up."""
    folder, name = osp.split(path)
    return osp.join(folder, f'.{name}.partial')
