"""The paper preset runs every row's config and every pre-training once,
each in its own work dir and starting from its row's pre-training, and
refuses a config that two pre-trainings would share."""
import argparse
import re

import pytest

from mim_plugins.reproduce import paper
from protocol_helpers import _checkpoint_of


def test_paper_preset_runs_each_job_once_in_its_own_work_dir():
    from mim_plugins.reproduce.full import paper_jobs
    args = argparse.Namespace(gpus=8, imagenet='data/imagenet',
                              coco='data/coco/', ade='data/ade')
    jobs = paper_jobs(args)
    names = [name for name, _, _ in jobs]
    configs = [config for _, config, _ in jobs]
    dirs = [re.search(r'--work-dir (\S+)', cmd).group(1)
            for _, _, cmd in jobs]
    assert len(set(names)) == len(names) == len(set(configs))
    assert len(set(dirs)) == len(dirs)
    # every row's config and every pre-training is a job; each transfer
    # starts from its row's pre-training
    assert set(configs) == {r.config for r in paper.TABLE} | set(
        paper.PRETRAIN.values())
    by_config = {config: cmd for _, config, cmd in jobs}
    for row in paper.TABLE:
        ckpt = _checkpoint_of(paper.PRETRAIN[row.pretrain])
        assert by_config[row.config].startswith(f'PRETRAINED={ckpt} ')
    # the two Swin-B rows are two jobs
    swin = [r.config for r in paper.TABLE if r.backbone.startswith('Swin')
            and r.task == 'ImageNet']
    assert len(set(swin)) == 2


def test_a_config_with_two_pretrainings_is_refused(monkeypatch):
    row = paper.TABLE[0]
    other = next(k for k in paper.PRETRAINS if k != row.pretrain)
    monkeypatch.setattr(paper, 'TABLE', paper.TABLE + [row._replace(
        pretrain=other)])
    with pytest.raises(ValueError, match='give each its own config'):
        paper.jobs()
