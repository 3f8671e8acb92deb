"""What a checkpoint file is, from its first bytes, before anything loads it.

torch's loaders answer an empty, text or random file with ``EOFError``,
``IndexError`` or an unpickling error; :func:`checkpoint_format` reads the
first bytes instead and names what the file is not. Nothing is unpickled
here: the pickle checks only parse opcodes (``pickletools``).
"""
import io
import os
import os.path as osp
import pickle
import pickletools
import re
import zipfile

from .common import LayoutError

#: the pickled integer that starts torch.save's legacy (non-zip) format
TORCH_MAGIC = 0x1950a86a20f9469cfc6c
#: first bytes of other formats that people take for checkpoints
OTHER_FORMATS = (
    (b'\x1f\x8b', 'a gzip file: decompress it first'),
    (b'\x89HDF', 'an HDF5 file (Keras/TensorFlow weights)'),
    (b'\x93NUMPY', 'a NumPy array (.npy)'),
)
#: what the unpickling errors of torch's safe loader say about an object it
#: refuses (not a damaged stream), and mim_plugins.utils.safe_load's getattr
_REFUSED = re.compile(r'GLOBAL (\S+) (?:was not an allowed global|whose )'
                      r'|Refusing (getattr\(.*?\)) while loading'
                      r'|Can only (?:create new object|build)'
                      r'|unrecognized function')


class NotACheckpointError(LayoutError):
    """A file that is not (or no longer) a readable checkpoint."""


def _again(path: str, first: bool = False) -> str:
    return (f'{"D" if first else "d"}ownload or copy {osp.basename(path)} '
            f'again, or check that it is the checkpoint file itself')


def _is_torch_pickle(head: bytes) -> bool:
    """Whether ``head`` starts with torch's pickled magic number."""
    try:
        for op, arg, _ in pickletools.genops(io.BytesIO(head)):
            if op.name not in ('PROTO', 'FRAME'):
                return op.name.startswith('LONG') and arg == TORCH_MAGIC
    except Exception:  # not a pickle, or cut by the head's end
        return False
    return False


def _text(head: bytes):
    """The first line of ``head`` if it is UTF-8 text, else None."""
    if b'\0' in head:
        return None
    try:
        text = head.decode('utf-8')
    except UnicodeDecodeError as err:
        if err.reason != 'unexpected end of data':  # not a cut character
            return None
        text = head[:err.start].decode('utf-8')
    line = text.strip().split('\n', 1)[0].strip()
    return line[:60] + ('...' if len(line) > 60 else '')


def _text_hint(line: str) -> str:
    if line.startswith('version https://git-lfs'):
        return ('a Git LFS pointer: fetch the file itself (git lfs pull, or '
                'the download link)')
    if line.lower().startswith(('<!doctype html', '<html', '<?xml')):
        return ('a web page saved in place of the file (a login, redirect '
                'or error page?): download the file itself')
    return 'pass the checkpoint file itself (.pth, .bin or .safetensors)'


def checkpoint_format(path: str) -> str:
    """``'zip'``, ``'pickle'`` (torch.save's two formats) or
    ``'safetensors'``, from the file's first bytes.

    Raises:
        FileNotFoundError: No such file.
        NotACheckpointError: One line saying what the file is not (empty,
            text, a plain pickle, a damaged zip, another format) and what
            to do.
    """
    if not osp.isfile(path):
        raise FileNotFoundError(f'{path} does not exist.')
    size = os.path.getsize(path)
    if size == 0:
        raise NotACheckpointError(
            f'{path} is empty (0 bytes): not a checkpoint; was the download '
            f'or copy interrupted? {_again(path, True)}.')
    with open(path, 'rb') as f:
        head = f.read(4096)
    if head.startswith((b'PK\x03\x04', b'PK\x05\x06')):  # zip
        try:
            with zipfile.ZipFile(path) as archive:
                names = archive.namelist()
        except (zipfile.BadZipFile, OSError) as err:
            raise NotACheckpointError(
                f'{path} is a damaged or truncated zip archive ({err}), not '
                f'a readable PyTorch checkpoint: was the download or copy '
                f'interrupted? {_again(path, True)}.') from None
        if not any(n.endswith('data.pkl') for n in names):
            raise NotACheckpointError(
                f'{path} is a zip archive without data.pkl, not a PyTorch '
                f'checkpoint ({len(names)} files, e.g. {names[:3]}): extract '
                f'the checkpoint from it.')
        return 'zip'
    if len(head) > 8 and head[8:9] == b'{':
        header = int.from_bytes(head[:8], 'little')
        if 2 <= header <= 100_000_000:  # safetensors' header limit
            if 8 + header > size:
                raise NotACheckpointError(
                    f'{path} is a truncated safetensors file ({size} bytes, '
                    f'shorter than its {header}-byte header): '
                    f'{_again(path)}.')
            return 'safetensors'
    if _is_torch_pickle(head):
        return 'pickle'
    if len(head) > 1 and head[0] == 0x80 and 2 <= head[1] <= 5:  # pickle
        raise NotACheckpointError(
            f'{path} is a plain Python pickle, not a PyTorch checkpoint '
            f'(torch.save writes a zip, or a pickle that starts with its '
            f'magic number): save the weights with torch.save or '
            f'safetensors where the file was made.')
    for magic, what in OTHER_FORMATS:
        if head.startswith(magic):
            raise NotACheckpointError(
                f'{path} is {what}, not a PyTorch/safetensors checkpoint.')
    if head[257:262] == b'ustar':
        raise NotACheckpointError(
            f'{path} is a tar archive, not a PyTorch/safetensors checkpoint: '
            f'extract the checkpoint from it.')
    line = _text(head)
    if line is not None:
        raise NotACheckpointError(
            f'{path} is a text file, not a PyTorch/safetensors checkpoint '
            f'({f"it begins {line!r}" if line else "blank"}): '
            f'{_text_hint(line)}.')
    raise NotACheckpointError(
        f'{path} is neither a PyTorch checkpoint (zip or legacy pickle) nor '
        f'safetensors: its first bytes are {head[:16].hex(" ")}; '
        f'{_again(path)}.')


def reason(err: BaseException) -> str:
    """The informative line of a loader's error (torch's safe loader wraps
    its unpickler's reason in paragraphs of advice)."""
    text = str(err)
    marker = 'WeightsUnpickler error:'
    if marker in text:
        text = text.split(marker, 1)[1]
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[0] if lines else ''


def refused_object(err: BaseException):
    """The class or function that torch's safe loader refused in ``err``
    ('' if unnamed), or None if ``err`` is not such a refusal."""
    if not isinstance(err, pickle.UnpicklingError):
        return None
    found = _REFUSED.search(str(err))
    if found is None:
        return None
    return found.group(1) or found.group(2) or ''


def is_whole_pickle(path: str, fmt: str) -> bool:
    """Whether the pickled part of a checkpoint parses to its end (opcodes
    only: nothing is built or run)."""
    try:
        if fmt == 'zip':
            with zipfile.ZipFile(path) as archive:
                name = next(n for n in archive.namelist()
                            if n.endswith('data.pkl'))
                for _ in pickletools.genops(archive.read(name)):
                    pass
            return True
        with open(path, 'rb') as f:  # magic, protocol, sys info, object
            for _ in range(4):
                for _ in pickletools.genops(f):
                    pass
        return True
    except Exception:
        return False


def unreadable(path: str, fmt: str, err: BaseException) -> NotACheckpointError:
    """The error for a file of format ``fmt`` that its loader cannot read."""
    what = {'zip': 'PyTorch checkpoint (zip)',
            'pickle': 'PyTorch checkpoint (legacy pickle)',
            'safetensors': 'safetensors file'}[fmt]
    detail = f'{type(err).__name__}: {reason(err)}'.rstrip(': ')
    return NotACheckpointError(
        f'{path} starts as a {what} but cannot be read ({detail}): it is '
        f'truncated or damaged; {_again(path)}.')
