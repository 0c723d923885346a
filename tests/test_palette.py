"""The charts' palette stays distinct for colour-blind readers (issue 16, point 5).

Simulation: Machado, Oliveira & Fernandes (2009), severity 1.0 matrices, applied in linear RGB; distance: Euclidean
in CIE L*a*b* (ΔE76). Two colours that a viewer must tell apart keep ΔE ≥ 20 under each deficiency."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analytics.charts import base

MACHADO = {
    "protanopia": [[0.152286, 1.052583, -0.204868], [0.114503, 0.786281, 0.099216], [-0.003882, -0.048116, 1.051998]],
    "deuteranopia": [[0.367322, 0.860646, -0.227968], [0.280085, 0.672501, 0.047413], [-0.011820, 0.042940, 0.968881]],
    "tritanopia": [[1.255528, -0.076749, -0.178779], [-0.078411, 0.930809, 0.147602], [0.004733, 0.691367, 0.303900]],
}


def _linear(hex_color: str) -> np.ndarray:
    rgb = np.array([int(hex_color[i:i + 2], 16) for i in (1, 3, 5)]) / 255
    return np.where(rgb <= 0.04045, rgb / 12.92, ((rgb + 0.055) / 1.055) ** 2.4)


def _lab(linear: np.ndarray) -> np.ndarray:
    xyz = np.array([[0.4124, 0.3576, 0.1805], [0.2126, 0.7152, 0.0722], [0.0193, 0.1192, 0.9505]]) @ np.clip(linear, 0, 1)
    xyz = xyz / np.array([0.95047, 1.0, 1.08883])
    f = np.where(xyz > 216 / 24389, np.cbrt(xyz), (24389 / 27 * xyz + 16) / 116)
    return np.array([116 * f[1] - 16, 500 * (f[0] - f[1]), 200 * (f[1] - f[2])])


def distance(a: str, b: str, deficiency: str) -> float:
    m = np.array(MACHADO[deficiency])
    return float(np.linalg.norm(_lab(m @ _linear(a)) - _lab(m @ _linear(b))))


# colours drawn side by side in one chart: the first series of the palette; the named colours of the charts
SIDE_BY_SIDE = [base.PALETTE[:5], [base.PRIMARY, base.ACCENT, base.NEUTRAL, base.POSITIVE, base.TARGET]]


@pytest.mark.parametrize("group", [0, 1])
@pytest.mark.parametrize("deficiency", sorted(MACHADO))
def test_colours_drawn_together_stay_apart(deficiency, group):
    colours = list(dict.fromkeys(SIDE_BY_SIDE[group]))
    close = [(a, b, round(distance(a, b, deficiency), 1)) for a, b in itertools.combinations(colours, 2)
             if distance(a, b, deficiency) < 20]
    assert close == []


def test_the_former_palette_would_have_failed():
    """The check can fail: the palette before issue 16 (blue #1f5fa8 beside purple #8e44ad, green beside red)."""
    assert distance("#1f5fa8", "#8e44ad", "protanopia") < 20
    assert distance("#2e8b57", "#c0392b", "protanopia") < 20
