"""Latent-space utilities: interpolation paths and picture grids."""
import numpy as np
import pytest

from advzoo import latent


def test_lerp_and_slerp_end_points_and_norms():
    rng = np.random.default_rng(0)
    z0, z1 = rng.standard_normal(128), rng.standard_normal(128)
    for method in ("linear", "slerp"):
        path = latent.interpolate(z0, z1, steps=9, method=method)
        assert path.shape == (9, 128)
        np.testing.assert_allclose(path[0], z0, atol=1e-5)
        np.testing.assert_allclose(path[-1], z1, atol=1e-5)
    linear = np.linalg.norm(latent.lerp(z0, z1, 9), axis=1)
    spherical = np.linalg.norm(latent.slerp(z0, z1, 9), axis=1)
    # nearly orthogonal high-dimensional codes: the straight line dips to ~1/sqrt(2) of the norm
    assert linear[4] < 0.8 * linear[0]
    assert spherical.min() > 0.9 * min(spherical[0], spherical[-1])


def test_slerp_of_parallel_codes_falls_back_to_lerp():
    z = np.ones(4)
    np.testing.assert_allclose(latent.slerp(z, 2 * z, 3), latent.lerp(z, 2 * z, 3), atol=1e-6)


def test_bad_arguments():
    with pytest.raises(ValueError, match="Unknown method 'spherical'. Expected one of: linear, slerp"):
        latent.interpolate(np.ones(2), np.zeros(2), method="spherical")
    with pytest.raises(ValueError, match="steps >= 2"):
        latent.interpolate(np.ones(2), np.zeros(2), steps=1)
    with pytest.raises(ValueError, match=r"\(N, H, W, C\)"):
        latent.image_grid(np.zeros((4, 4)))


def test_image_grid_layout_and_range(tmp_path):
    images = np.stack([np.full((2, 3, 1), v) for v in (-1.0, 0.0, 1.0)])
    grid = latent.image_grid(images, columns=2, padding=1)
    assert grid.shape == (2 * 3 + 1, 2 * 4 + 1, 1) and grid.dtype == np.uint8
    assert grid[1, 1, 0] == 0 and grid[1, 5, 0] == 128 and grid[4, 1, 0] == 255
    latent.save_png(grid, tmp_path / "g.png", scale=2)
    from PIL import Image

    assert Image.open(tmp_path / "g.png").size == (2 * 9, 2 * 7)
