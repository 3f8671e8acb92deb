"""Drop-in: our downstream configs run through mmdet's and mmseg's own
tools/train.py, with nothing but custom_imports."""
import os
import os.path as osp
import subprocess
import sys

import mmdet
import mmseg

from helpers import ROOT
import test_detection as det
import test_segmentation as seg


def _run_upstream(package, cfg, tmp_path):
    config = tmp_path / 'tiny_config.py'
    cfg.dump(str(config))
    script = osp.join(osp.dirname(package.__file__), '.mim', 'tools',
                      'train.py')
    proc = subprocess.run(
        [sys.executable, script, str(config), '--work-dir', str(tmp_path)],
        cwd=str(tmp_path), capture_output=True, text=True, timeout=900,
        env=dict(os.environ, PYTHONPATH=ROOT, CUDA_VISIBLE_DEVICES=''))
    assert proc.returncode == 0, proc.stdout[-2000:] + proc.stderr[-3000:]
    assert osp.exists(tmp_path / 'iter_4.pth')
    return proc.stdout + proc.stderr


def test_mmdet_train_runs_our_mask_rcnn_config(demo_data, tmp_path_factory,
                                               tmp_path):
    path = osp.join(ROOT, 'configs/detection/a2mim/'
                    'mask-rcnn_resnet50-fpn_a2mim-pre_8xb2-2x_coco.py')
    ckpt = det.pretrain('a2mim_resnet', demo_data, str(tmp_path / 'pre'))
    coco = det.make_coco_instances(str(tmp_path_factory.mktemp('coco')),
                                   num_train=4, num_val=2, size=128)
    cfg = det._tiny_cfg(path, ckpt, coco, str(tmp_path))
    log = _run_upstream(mmdet, cfg, tmp_path)
    assert 'PretrainedCheckHook: backbone loads all' in log
    assert 'coco/segm_mAP' in log


def test_mmseg_train_runs_our_upernet_config(demo_data, tmp_path_factory,
                                             tmp_path):
    path = osp.join(ROOT, 'configs/segmentation/a2mim/'
                    'upernet_resnet50_a2mim-pre_8xb2-160k_ade20k-512x512.py')
    ckpt = seg.pretrain('a2mim_resnet', demo_data, str(tmp_path / 'pre'))
    ade = seg.make_segmentation_folder(str(tmp_path_factory.mktemp('ade')),
                                       num_train=4, num_val=2)
    log = _run_upstream(mmseg, seg._tiny_cfg(path, ckpt, ade, str(tmp_path)),
                        tmp_path)
    assert 'PretrainedCheckHook: backbone loads all' in log
    assert 'mIoU' in log
