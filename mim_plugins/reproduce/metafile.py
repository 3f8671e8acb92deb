"""OpenMMLab model-index files, generated from :mod:`.paper`.

``model-index.yml`` imports one ``metafile.yml`` per method
(``configs/pretrain/{a2mim,simmim,maskdistill}/metafile.yml``), listing every
config of that method (pre-training and downstream, demo configs aside) with
the papers' numbers of the rows of :data:`.paper.TABLE` that run it. openmim
(``mim search mim_plugins``) and mmengine (``mim_plugins::`` paths,
``mmengine.hub.get_config``) read them from ``mim_plugins/.mim/``.
``tools/make_metafiles.py`` writes them; ``tests/test_packaging.py`` fails
when the committed files differ from what this module generates.
"""
import glob
import os.path as osp
from typing import Dict, List

from . import paper

#: method -> (its config folder name, paper title, paper URL, code URL)
COLLECTIONS = {
    'A2MIM': ('a2mim', 'Architecture-Agnostic Masked Image Modeling -- From '
              'ViT back to CNN', 'https://arxiv.org/abs/2205.13943',
              'https://github.com/Westlake-AI/openmixup'),
    'SimMIM': ('simmim', 'SimMIM: A Simple Framework for Masked Image '
               'Modeling', 'https://arxiv.org/abs/2111.09886',
               'https://github.com/microsoft/SimMIM'),
    'MaskDistill': ('maskdistill', 'A Unified View of Masked Image Modeling',
                    'https://arxiv.org/abs/2210.10615', None),
}
#: our metric -> (task, dataset, metric name as OpenMMLab's metafiles write it)
METRICS = {
    'top-1': ('Image Classification', 'ImageNet-1k', 'Top 1 Accuracy'),
    'box AP': ('Object Detection', 'COCO', 'box AP'),
    'mask AP': ('Instance Segmentation', 'COCO', 'mask AP'),
    'mIoU': ('Semantic Segmentation', 'ADE20K', 'mIoU'),
}
#: the first folder of a config -> its task and training data
KINDS = {
    'pretrain': ('Self-Supervised Pre-training', 'ImageNet-1k'),
    'classification': ('Image Classification', 'ImageNet-1k'),
    'detection': ('Object Detection', 'COCO'),
    'segmentation': ('Semantic Segmentation', 'ADE20K'),
}
INDEX = 'model-index.yml'


def metafile_path(method: str) -> str:
    """Where the metafile of ``method`` goes, relative to the repository
    (and to ``mim_plugins/.mim``)."""
    return f'configs/pretrain/{COLLECTIONS[method][0]}/metafile.yml'


def method_configs(root: str, method: str) -> List[str]:
    """Every config of ``method`` (``configs/*/<method>/*.py``, demo configs
    aside), relative to ``root``, sorted: pre-trainings first."""
    folder = COLLECTIONS[method][0]
    out = []
    for kind in KINDS:
        paths = glob.glob(osp.join(root, 'configs', kind, folder, '*.py'))
        out += sorted(osp.relpath(p, root) for p in paths
                      if not p.endswith('_demo.py'))
    return out


def _results(config: str) -> List[dict]:
    results: Dict[tuple, dict] = {}
    for row in paper.TABLE:
        if row.config != config or row.value is None:
            continue
        task, dataset, metric = METRICS[row.metric]
        results.setdefault((task, dataset), {})[metric] = row.value
    return [dict(Task=t, Dataset=d, Metrics=m)
            for (t, d), m in results.items()]


def metafile(root: str, method: str) -> dict:
    """The metafile of ``method`` as a dict."""
    folder, title, url, code = COLLECTIONS[method]
    collection = dict(Name=method, Metadata={'Training Data': 'ImageNet-1k'},
                      Paper=dict(Title=title, URL=url),
                      README=f'configs/pretrain/{folder}/README.md')
    if code:
        collection['Code'] = dict(URL=code)
    pretrain_of = {row.config: paper.PRETRAIN[row.pretrain]
                   for row in paper.TABLE}
    models = []
    for config in method_configs(root, method):
        kind = config.split('/')[1]
        task, data = KINDS[kind]
        meta = {'Task': task, 'Training Data': data}
        if config in pretrain_of:
            meta['Pre-training'] = osp.splitext(
                osp.basename(pretrain_of[config]))[0]
        model = dict(Name=osp.splitext(osp.basename(config))[0],
                     Metadata=meta, **{'In Collection': method})
        results = _results(config)
        if results:
            model['Results'] = results
        model['Config'] = config
        models.append(model)
    return dict(Collections=[collection], Models=models)


def model_index() -> dict:
    return dict(Import=[metafile_path(m) for m in COLLECTIONS])


def dump(data: dict) -> str:
    import yaml
    return yaml.safe_dump(data, sort_keys=False, allow_unicode=True,
                          width=1000)


def generate(root: str) -> Dict[str, str]:
    """Path (relative to ``root``) -> text, of every model-index file."""
    files = {INDEX: dump(model_index())}
    for method in COLLECTIONS:
        files[metafile_path(method)] = dump(metafile(root, method))
    return files
