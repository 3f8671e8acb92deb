"""Data errors that say which file and why: a pipeline failure names its
sample, an unreadable image can be skipped (and is counted), and a data set
that filters down to nothing says why before training starts."""
import collections
import logging
import os
import os.path as osp

from mmengine.dataset import Compose
from mmengine.logging import print_log

#: the keys of a data sample that name the files it is read from
_FILE_KEYS = ('img_path', 'seg_map_path', 'filename')


class EmptyDatasetError(ValueError):
    """A data set with no sample left to train or test on."""


def file_problem(path: str) -> str:
    """What is wrong with an image file that failed to load."""
    if not osp.exists(path):
        return 'it does not exist'
    size = osp.getsize(path)
    if size == 0:
        return 'it is empty (0 bytes)'
    try:
        from PIL import Image
        with Image.open(path) as img:
            img.load()
    except Exception as e:  # noqa: BLE001  PIL raises many kinds
        with open(path, 'rb') as f:
            head = f.read(8)
        return (f'it is not a readable image ({size} bytes starting with '
                f'{head!r}: {type(e).__name__}: {e})')
    return f'it is a valid image to PIL ({size} bytes) but not to the decoder'


def _sample_files(results) -> list:
    if not isinstance(results, dict):
        return []
    return [results[k] for k in _FILE_KEYS
            if isinstance(results.get(k), str)]


def _with_message(error: Exception, message: str) -> Exception:
    try:
        return type(error)(message)
    except Exception:  # noqa: BLE001  exception types with other signatures
        return RuntimeError(message)


class NamedErrorsCompose(Compose):
    """A dataset pipeline whose errors name the sample's files.

    A transform that reads a file (``Load*``) and fails gets the file and
    what is wrong with it (missing, empty, not an image); in training, with
    ``skip_unreadable=True``, the sample is dropped instead (the dataset
    then draws another, as mmengine does for ``None``) with a warning that
    names the file and counts the skips of this process. Any other failing
    transform is named together with the sample's files.
    """

    skipped = 0  # per process: data workers count their own

    def __init__(self, pipeline: Compose, skip_unreadable: bool = False,
                 test_mode: bool = False):
        super().__init__(list(pipeline.transforms))
        self.skip_unreadable = skip_unreadable and not test_mode

    def __call__(self, data):
        files = _sample_files(data)
        for t in self.transforms:
            try:
                data = t(data)
            except Exception as e:  # noqa: BLE001  re-raised with the file
                name = type(t).__name__
                if name.startswith('Load') and files:
                    why = '; '.join(f'{f}: {file_problem(f)}' for f in files)
                    if self.skip_unreadable:
                        NamedErrorsCompose.skipped += 1
                        print_log(
                            f'Skipped an unreadable sample ({why}); '
                            f'{NamedErrorsCompose.skipped} skipped so far in '
                            f'process {os.getpid()}.', logger='current',
                            level=logging.WARNING)
                        return None
                    raise _with_message(e, (
                        f'{name} cannot read the sample {why} '
                        f'({type(e).__name__}: {e}). Replace or remove the '
                        f'file, or skip unreadable samples in training with '
                        f'train_dataloader.skip_unreadable=True (MIMRunner; '
                        f'each skip is logged and counted).')) from e
                raise _with_message(e, (
                    f'{name} failed on the sample {", ".join(files) or data}:'
                    f' {type(e).__name__}: {e}')) from e
            if data is None:
                return None
        return data


def _datasets(dataset):
    """The datasets with a pipeline inside ``dataset``'s wrappers."""
    if hasattr(dataset, 'pipeline'):
        yield dataset
    inner = getattr(dataset, 'dataset', None)
    if inner is not None and inner is not dataset:
        yield from _datasets(inner)
    for d in getattr(dataset, 'datasets', None) or []:
        yield from _datasets(d)


def name_sample_errors(dataset, skip_unreadable: bool = False) -> None:
    """Wrap the pipeline of ``dataset`` (and of the datasets it wraps) in
    :class:`NamedErrorsCompose`."""
    for d in _datasets(dataset):
        if isinstance(d.pipeline, Compose) and \
                not isinstance(d.pipeline, NamedErrorsCompose):
            d.pipeline = NamedErrorsCompose(
                d.pipeline, skip_unreadable,
                test_mode=bool(getattr(d, 'test_mode', False)))


def _suffixes(folder: str) -> str:
    if not osp.isdir(folder):
        return f'{folder} does not exist'
    counts = collections.Counter(
        osp.splitext(n)[1] or '(none)' for _, _, names in os.walk(folder)
        for n in names)
    if not counts:
        return f'{folder} holds no files'
    listed = ', '.join(f'{n} {s}' for s, n in counts.most_common(4))
    return f'{folder} holds {sum(counts.values())} files ({listed})'


def _raw_and_kept(dataset_cfg):
    """Build the data set again without filtering: (dataset, samples
    listed, samples kept by its filter)."""
    from mmengine.registry import DATASETS
    cfg = dict(dataset_cfg, lazy_init=True, serialize_data=False)
    dataset = DATASETS.build(cfg)
    raw = dataset.load_data_list()
    dataset.data_list = raw
    kept = dataset.filter_data() if raw else []
    return dataset, raw, kept


def _coco_categories(ann_file) -> list:
    """The category names of a COCO-style annotation file ([] if it is
    none)."""
    if not (isinstance(ann_file, str) and ann_file.endswith('.json')):
        return []
    try:
        from mmengine.fileio import load
        return [c['name'] for c in load(ann_file).get('categories', [])]
    except Exception:  # noqa: BLE001  not COCO: no class hint
        return []


def explain_empty(dataset_cfg) -> str:
    """Why the data set of ``dataset_cfg`` has no sample."""
    while isinstance(dataset_cfg.get('dataset'), dict):
        dataset_cfg = dataset_cfg['dataset']  # RepeatDataset and friends
    where = (f"{dataset_cfg.get('type')} at data_root="
             f"{dataset_cfg.get('data_root')!r}")
    try:
        dataset, raw, kept = _raw_and_kept(dataset_cfg)
    except Exception as e:  # noqa: BLE001  the explanation must not hide
        return f'The data set {where} is empty ({type(e).__name__}: {e}).'
    if not raw:
        prefix = getattr(dataset, 'data_prefix', {}) or {}
        img_dir = prefix.get('img_path') or prefix.get('img')
        suffix = getattr(dataset, 'img_suffix', None)
        ann = getattr(dataset, 'ann_file', '')
        if ann:
            why = f'its annotation file {ann} lists no sample'
        elif img_dir and suffix:
            why = (f"no file in {img_dir} ends with img_suffix={suffix!r}: "
                   f'{_suffixes(img_dir)}. Set img_suffix (and '
                   f'seg_map_suffix) in the dataset config')
        else:
            why = f'nothing was found under {prefix or dataset.data_root}'
        return f'The data set {where} is empty: {why}.'
    if kept:
        return f'The data set {where} is empty.'
    why = (f'all {len(raw)} samples were removed by its filter '
           f'(filter_cfg={getattr(dataset, "filter_cfg", None)})')
    classes = list((dataset.metainfo or {}).get('classes') or [])
    names = _coco_categories(getattr(dataset, 'ann_file', ''))
    if names and classes:
        common = set(names) & set(classes)
        why += (f': {"none" if not common else len(common)} of the config\'s '
                f'{len(classes)} classes ({", ".join(classes[:3])}, ...) '
                f'name a category of {dataset.ann_file} '
                f'({", ".join(names[:6])}{", ..." if len(names) > 6 else ""})'
                f'. Set metainfo=dict(classes=...) in the dataset config to '
                f'the categories to train on (and num_classes in the heads)')
    return f'The data set {where} is empty after filtering: {why}.'
