"""Measures of advzoo: sample quality in domain feature spaces, image quality, segmentation.

Plain functions on numpy arrays (image.py, segmentation.py, distribution.py), Keras metrics for
`compile(metrics=...)` (keras_metrics.py: PSNR, SSIM, Dice) and the phantom feature network for
Fréchet / kernel distances (features.py), which loads on first use.
"""
import importlib as _importlib

from advzoo.metrics.digits import DigitClassifier, digit_sample_report
from advzoo.metrics.distribution import (auc, frechet_distance, kernel_distance, ms_ssim_diversity,
                                         precision_recall)
from advzoo.metrics.image import mae_hu, ms_ssim, psnr, ssim
from advzoo.metrics.keras_metrics import PSNR, SSIM, Dice  # registered with Keras on import
from advzoo.metrics.segmentation import connected_components, dice, hausdorff95, surface_distances

_LAZY = {"phantom_features": "advzoo.metrics.features", "feature_distances": "advzoo.metrics.features",
         "load_feature_network": "advzoo.metrics.features",
         "build_feature_network": "advzoo.metrics.features"}

__all__ = ["DigitClassifier", "digit_sample_report",
           "psnr", "ssim", "ms_ssim", "mae_hu", "dice", "hausdorff95", "surface_distances",
           "connected_components", "auc", "frechet_distance", "kernel_distance", "precision_recall",
           "ms_ssim_diversity", "PSNR", "SSIM", "Dice", *_LAZY]


def __getattr__(name):
    if name in _LAZY:
        return getattr(_importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'advzoo.metrics' has no attribute {name!r}")

# Hallucination (Cohen et al. 2018) and hidden-information (Chu et al. 2017) checks of translators.
_LAZY.update({name: "advzoo.metrics.hallucination" for name in (
    "hallucination_report", "hidden_information_report", "as_translator")})
__all__ += ["hallucination_report", "hidden_information_report", "as_translator"]

# Visual attribution against lesion masks (VA-GAN, Baumgartner et al. 2018) and gradient saliency.
_LAZY.update({name: "advzoo.metrics.attribution" for name in (
    "attribution_ncc", "attribution_auc", "attribution_report", "gradient_saliency")})
__all__ += ["attribution_ncc", "attribution_auc", "attribution_report", "gradient_saliency"]
