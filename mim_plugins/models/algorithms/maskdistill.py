"""MaskDistill: masked distillation of a frozen teacher's features.

Peng et al., "A Unified View of Masked Image Modeling", TMLR 2023. No
official code was released; this follows the paper's unified view: teacher
-> target normalisation -> student -> MIM head -> loss.
"""
from typing import Dict, List, Union

import torch

from mmpretrain.models.selfsup import BaseSelfSupervisor
from mmpretrain.registry import MODELS
from mmpretrain.structures import DataSample
from .mim_base import MIMAlgorithmMixin


@MODELS.register_module()
class MaskDistill(MIMAlgorithmMixin, BaseSelfSupervisor):
    """MaskDistill pre-training.

    The student (``backbone``, e.g. ``MaskDistillViT``) encodes the image
    with the mask token replacing the masked patches (block-wise masks,
    40%); the frozen ``target_generator`` (``CLIPViTTeacher``) encodes the
    full image; the ``head`` (``MaskDistillHead``) maps the student's patch
    tokens to the teacher's width and takes a Smooth-L1 loss against the
    LayerNorm-normalised teacher features on the masked patches only.

    Choices where the paper is silent, and why: the teacher sees the same
    augmented 224-px view as the student, re-normalised with CLIP's
    statistics; the teacher's patch tokens are used (not its cls token); under
    AMP the teacher runs in the autocast dtype like the student, and the
    loss in fp32. The teacher's weights are not saved in checkpoints (they are
    re-loaded from their own file), which keeps a ViT-B checkpoint at the
    student's size.

    Args:
        backbone (dict): Student config.
        head (dict): Head config.
        target_generator (dict): Teacher config.
        neck (dict, optional): Unused by default.
        data_preprocessor (dict, optional): Its mean/std are those the
            teacher undoes.
    """

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self._register_state_dict_hook(_drop_teacher_keys)
        self._register_load_state_dict_pre_hook(self._keep_teacher_keys)

    def _keep_teacher_keys(self, state_dict, prefix, *args, **kwargs):
        """Checkpoints have no teacher: keep the loaded teacher weights."""
        for key, value in self.target_generator.state_dict().items():
            state_dict.setdefault(f'{prefix}target_generator.{key}', value)

    def extract_feat(self, inputs: torch.Tensor):
        return self.backbone(inputs, mask=None)

    def loss(self, inputs: Union[torch.Tensor, List[torch.Tensor]],
             data_samples: List[DataSample],
             **kwargs) -> Dict[str, torch.Tensor]:
        inputs = inputs[0] if isinstance(inputs, (list, tuple)) else inputs
        mask = self.stack_masks(data_samples)
        pre = self.data_preprocessor
        target = self.target_generator(inputs, pre.mean, pre.std)
        latent = self.backbone(inputs, mask)[-1]  # (B, C, h, w)
        tokens = latent.flatten(2).transpose(1, 2)
        if target.shape[1] != tokens.shape[1]:
            raise ValueError(
                f'MaskDistill: the teacher gives {target.shape[1]} patch '
                f'tokens and the student {tokens.shape[1]}; their patch '
                f'grids must match: the same input and patch size, or, for '
                f'a teacher with other patches (CLIP ViT-L/14 for a /16 '
                f'student), the teacher\'s input_size = student grid x '
                f'teacher patch size (196 for 224-px /16 students).')
        return self.head.loss(tokens, target, mask)


def _drop_teacher_keys(module, state_dict, prefix, local_metadata):
    for key in [k for k in state_dict
                if k.startswith(f'{prefix}target_generator.')]:
        del state_dict[key]
    return state_dict
