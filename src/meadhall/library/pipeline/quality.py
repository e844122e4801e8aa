"""A quick quality score: is the picture sharp, and is it well exposed?

- Sharpness: the variance of the Laplacian of a grey copy about 512 px wide (edges make it
  large, blur makes it small), mapped to 0..1 with ``v / (v + 150)``: a variance of 150
  (noticeably soft) scores 0.5.
- Exposure: from the histogram — how far the mean brightness sits from the middle, and how
  many pixels are crushed to black or blown to white.
- Quality: 60 % sharpness, 40 % exposure.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image

ANALYSIS_SIZE = 512
SHARPNESS_MIDPOINT = 150.0


@dataclass(frozen=True)
class QualityScore:
    sharpness: float
    exposure: float
    quality: float


def _grey(image: Image.Image) -> np.ndarray:
    grey = image.convert("L")
    if max(grey.size) > ANALYSIS_SIZE:
        grey = grey.copy()
        grey.thumbnail((ANALYSIS_SIZE, ANALYSIS_SIZE), Image.Resampling.BILINEAR)
    return np.asarray(grey, dtype=np.float32)


def sharpness_of(grey: np.ndarray) -> float:
    """0 (flat or blurred) .. 1 (crisp edges)."""
    if grey.shape[0] < 3 or grey.shape[1] < 3:
        return 0.0
    laplacian = (
        grey[1:-1, :-2] + grey[1:-1, 2:] + grey[:-2, 1:-1] + grey[2:, 1:-1] - 4 * grey[1:-1, 1:-1]
    )
    variance = float(laplacian.var())
    return variance / (variance + SHARPNESS_MIDPOINT)


def exposure_of(grey: np.ndarray) -> float:
    """0 (all black or all white) .. 1 (mid-tones, nothing clipped)."""
    if grey.size == 0:
        return 0.0
    histogram = np.bincount(grey.astype(np.uint8).ravel(), minlength=256) / grey.size
    mean = float((histogram * np.arange(256)).sum()) / 255.0
    balance = 1.0 - (abs(mean - 0.5) / 0.5) ** 2
    clipped = float(histogram[:4].sum() + histogram[252:].sum())
    return max(0.0, min(1.0, balance * (1.0 - clipped)))


def assess(image: Image.Image) -> QualityScore:
    """Sharpness, exposure and their combination, each 0..1 (rounded to 4 places)."""
    grey = _grey(image)
    sharpness = sharpness_of(grey)
    exposure = exposure_of(grey)
    quality = 0.6 * sharpness + 0.4 * exposure
    return QualityScore(
        sharpness=round(sharpness, 4), exposure=round(exposure, 4), quality=round(quality, 4)
    )
