"""Frozen CLIP ViT image encoder used as the MaskDistill teacher."""
import os.path as osp
from typing import Optional, Sequence

import torch
import torch.nn as nn
import torch.nn.functional as F
from mmengine.model import BaseModule

from mmpretrain.registry import MODELS

#: OpenAI CLIP's input normalisation, on the 0-255 pixel scale.
CLIP_MEAN = (122.7709383, 116.7460125, 104.09373615)
CLIP_STD = (68.5005327, 66.6321579, 70.32316305)
OUTPUTS = ('last_block', 'final_norm', 'projection')


@MODELS.register_module()
class CLIPViTTeacher(BaseModule):
    """The image encoder of CLIP ViT (OpenAI layout), frozen, as a teacher.

    Built from mmpretrain's ``VisionTransformer`` with CLIP's pre-norm,
    QuickGELU and LayerNorm eps 1e-5, plus CLIP's final LayerNorm
    (``ln_post``) and projection (``proj``). It returns the patch tokens of
    the last layer, (B, L, D), taken at ``output``:

    - ``'last_block'``: the last block's output, before the final LN (768-d
      for ViT-B/16);
    - ``'final_norm'``: after the final LN (768-d);
    - ``'projection'``: after the final LN and CLIP's projection (512-d).

    The MaskDistill paper uses the last-layer features of CLIP ViT-B/16 and
    does not publish code; we default to ``'projection'``, the CLIP-B/16
    target that BEiT v2 (same authors) distils, and keep the others
    selectable.

    The student's inputs are normalised by the data preprocessor; the teacher
    undoes that normalisation and applies its own (``mean``/``std``, CLIP's
    by default), so both see the same pixels.

    A teacher whose patch grid differs from the student's (CLIP ViT-L/14,
    16x16 patches at 224 px, for a ViT/16 student with 14x14) sees the
    image resized to ``input_size`` (196 px: 14x14 patches of 14 px), with
    its position embedding resized to that grid (bicubic, as mmpretrain's
    ViT does for any input size): the choice of MaskAlign's official code
    ("CLIP-L/14*: input 196x196 ... the same feature map size as the
    student") and of bwconrad/masked-distillation.

    The weights come from ``checkpoint``, a state dict in this module's
    layout (convert OpenAI / open_clip weights with
    ``tools/model_converters/clip_to_mim_plugins.py``), loaded strictly at
    construction: a missing file or any missing, unexpected or mis-shaped
    key is an error. Only ``random_init=True`` (for tests) builds a random
    teacher. The teacher is always in eval mode and has no gradients; its
    weights are not saved in the pre-training checkpoints.

    Args:
        arch (str | dict): mmpretrain ViT arch. Defaults to 'b'.
        img_size (int): Input size. Defaults to 224.
        patch_size (int): Defaults to 16.
        out_channels (int): Projection width. Defaults to 512.
        output (str): See above. Defaults to 'projection'.
        checkpoint (str, optional): Path of the converted weights.
        random_init (bool): Allow a random teacher. Defaults to False.
        mean (Sequence[float]): Teacher input mean (0-255 scale).
        std (Sequence[float]): Teacher input std (0-255 scale).
        input_size (int, optional): Resize the images to this size (bicubic)
            before the teacher; None keeps the student's size.
    """

    def __init__(self,
                 arch='b',
                 img_size: int = 224,
                 patch_size: int = 16,
                 out_channels: int = 512,
                 output: str = 'projection',
                 checkpoint: Optional[str] = None,
                 random_init: bool = False,
                 mean: Sequence[float] = CLIP_MEAN,
                 std: Sequence[float] = CLIP_STD,
                 input_size: Optional[int] = None,
                 init_cfg: Optional[dict] = None) -> None:
        super().__init__(init_cfg)
        if output not in OUTPUTS:
            raise ValueError(f'CLIPViTTeacher: output={output!r} is not one '
                             f'of {OUTPUTS}.')
        if input_size is not None and input_size % patch_size:
            raise ValueError(
                f'CLIPViTTeacher: input_size={input_size} is not a multiple '
                f'of patch_size={patch_size}; for a student grid of g x g '
                f'patches use input_size = g * {patch_size}.')
        self.output = output
        self.input_size = input_size
        self.vit = MODELS.build(
            dict(type='VisionTransformer', arch=arch, img_size=img_size,
                 patch_size=patch_size, pre_norm=True, final_norm=False,
                 out_type='raw', norm_cfg=dict(type='LN', eps=1e-5),
                 layer_cfgs=dict(act_cfg=dict(type='mmpretrain.QuickGELU'))))
        dims = self.vit.embed_dims
        self.ln_post = nn.LayerNorm(dims, eps=1e-5)
        self.proj = nn.Parameter(dims**-0.5 * torch.randn(dims, out_channels))
        self.out_channels = out_channels if output == 'projection' else dims
        self.register_buffer('mean', torch.tensor(mean).view(1, 3, 1, 1),
                             persistent=False)
        self.register_buffer('std', torch.tensor(std).view(1, 3, 1, 1),
                             persistent=False)
        if checkpoint is not None:
            self.load_teacher(checkpoint)
        elif not random_init:
            raise ValueError(
                'CLIPViTTeacher needs its weights: set checkpoint= to a CLIP '
                'state dict converted with tools/model_converters/'
                'clip_to_mim_plugins.py (random_init=True builds a random '
                'teacher, for tests only).')
        for p in self.parameters():
            p.requires_grad = False
        self._is_init = True  # never re-initialised by init_weights()
        self.train(False)

    def load_teacher(self, checkpoint: str) -> None:
        """Load the converted CLIP weights strictly, with a clear error."""
        if not osp.isfile(checkpoint):
            raise FileNotFoundError(
                f'Teacher checkpoint {checkpoint} does not exist; convert '
                f'the OpenAI CLIP weights with tools/model_converters/'
                f'clip_to_mim_plugins.py.')
        state = torch.load(checkpoint, map_location='cpu')
        state = state.get('state_dict', state)
        own = self.state_dict()
        missing = sorted(set(own) - set(state))
        unexpected = sorted(set(state) - set(own))
        shapes = sorted(f'{k}: {tuple(state[k].shape)} vs {tuple(v.shape)}'
                        for k, v in own.items()
                        if k in state and state[k].shape != v.shape)
        if missing or unexpected or shapes:
            raise ValueError(
                f'Teacher checkpoint {checkpoint} does not match the '
                f'CLIPViTTeacher (arch, patch size, projection): '
                f'missing {missing[:5]}{"..." if len(missing) > 5 else ""} '
                f'({len(missing)}), unexpected {unexpected[:5]} '
                f'({len(unexpected)}), shape mismatches {shapes[:5]}.')
        self.load_state_dict(state, strict=True)

    def train(self, mode: bool = True) -> 'CLIPViTTeacher':
        """The teacher stays in eval mode."""
        return super().train(False)

    @torch.no_grad()
    def forward(self, inputs: torch.Tensor, in_mean: torch.Tensor,
                in_std: torch.Tensor) -> torch.Tensor:
        """Teacher features (B, L, D) of inputs normalised by (in_mean, in_std)."""
        x = inputs * in_std.view(1, -1, 1, 1) + in_mean.view(1, -1, 1, 1)
        if self.input_size is not None and \
                tuple(x.shape[-2:]) != (self.input_size, ) * 2:
            x = F.interpolate(x, size=(self.input_size, ) * 2,
                              mode='bicubic', align_corners=False)
        x = (x - self.mean) / self.std
        feats = self.vit(x)[-1][:, self.vit.num_extra_tokens:]
        if self.output != 'last_block':
            feats = self.ln_post(feats)
        if self.output == 'projection':
            feats = feats @ self.proj
        return feats
