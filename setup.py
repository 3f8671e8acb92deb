from setuptools import find_packages, setup

# The OpenMMLab stack this project is built and tested against. mmcv (with
# its C++ ops) is not on PyPI as a wheel for this torch: tools/install_env.sh
# builds it once and caches the wheel. mmdet/mmseg assert mmcv < 2.2.0.
INSTALL_REQUIRES = [
    'torch>=2.1',
    'torchvision',
    'mmcv>=2.0.0,<2.2.0',
    'mmengine==0.10.7',
    'mmpretrain==1.2.0',
    'numpy<2',
    'setuptools<82',  # mmengine's mmdet::/mmseg:: configs import pkg_resources
    'matplotlib',
    # mmpretrain resizes relative position bias tables (fine-tuning at another
    # resolution) with scipy.interpolate.interp2d, removed in SciPy 1.14
    'scipy<1.14',
]
EXTRAS = {
    'det': ['mmdet==3.3.0', 'pycocotools'],
    'seg': ['mmsegmentation==1.2.2', 'ftfy', 'regex'],
    'tests': ['pytest', 'timm==1.0.31'],
}
EXTRAS['all'] = sorted({r for v in EXTRAS.values() for r in v})

setup(
    name='mim_plugins',
    version='0.1.0',
    description='Masked image modeling (A2MIM, SimMIM, MaskDistill) plugins '
    'for mmpretrain, mmdetection and mmsegmentation',
    long_description=open('README.md').read(),
    long_description_content_type='text/markdown',
    python_requires='>=3.9',
    packages=find_packages(include=['mim_plugins', 'mim_plugins.*']),
    install_requires=INSTALL_REQUIRES,
    extras_require=EXTRAS,
    license='Apache-2.0',
)
