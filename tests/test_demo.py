"""The README's main job, end to end at a tiny number of iterations."""
import os.path as osp

from PIL import Image

from tools import demo


def test_demo_writes_checkpoints_and_pictures(demo_data, tmp_path):
    results = demo.main(['--iters', '4', '--work-dir', str(tmp_path),
                         '--data-root', demo_data])
    assert [r['name'] for r in results] == ['a2mim_resnet', 'a2mim_vit']
    for r in results:
        assert osp.exists(r['checkpoint'])
        with Image.open(r['png']) as img:
            assert img.size[0] > 400 and img.size[1] > 400
    # a second run finds the finished runs and only redraws the pictures
    again = demo.main(['--iters', '4', '--work-dir', str(tmp_path),
                       '--data-root', demo_data])
    assert all(r['seconds'] < 30 for r in again)
