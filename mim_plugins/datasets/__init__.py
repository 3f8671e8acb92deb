from .transforms import *  # noqa: F401,F403
from .synthetic import (make_classification_folder,  # noqa: F401
                        make_coco_instances, make_segmentation_folder)
