"""Every figure the commands write fits a blog post: at most 2400 px tall, and no two
figures of one folder share a title (each PNG records its title as ``Title`` metadata)."""

from __future__ import annotations

import pytest
from PIL import Image

from outputs.cli import main

#: The tallest PNG a command may write, in pixels.
MAX_HEIGHT_PX = 2400

YEARS = ["--years", "2025:2030"]
COMMANDS = {
    "run": ["run", "--samples", "500", "--seed", "7", *YEARS],
    "sensitivity": ["sensitivity", "--n-base", "16", "--samples", "200", "--seed", "7", *YEARS,
                    "--target-year", "2030"],
    "sweep": ["sweep", "--vary", "mfu=0.2:0.6:3", "--vary", "chip_growth=1.2:4:3", "--samples", "100",
              "--seed", "7", "--years", "2025:2028", "--year", "2028", "--threshold", "1e28"],
    "compare": ["compare", "default", "power_wall", "--samples", "500", "--seed", "7", *YEARS],
    "calibrate": ["calibrate", "--labs", "1", "--draws", "20", "--chains", "1", "--samples", "500", *YEARS],
    "priors": ["priors", "--plot", "--samples", "500", "--seed", "7"],
}


@pytest.mark.parametrize("command", list(COMMANDS))
def test_every_png_is_at_most_2400_px_tall_and_titled_once_per_folder(command, tmp_path):
    out = tmp_path / command
    assert main([*COMMANDS[command], "--out", str(out)]) == 0
    pngs = sorted(out.glob("*.png"))
    assert pngs, f"{command} wrote no PNG"
    titles = {}
    for png in pngs:
        with Image.open(png) as image:
            assert image.height <= MAX_HEIGHT_PX, f"{png.name} is {image.height} px tall"
            title = image.info.get("Title", "")
        assert title, f"{png.name} records no title"
        assert title not in titles, f"{png.name} and {titles.get(title)} share the title {title!r}"
        titles[title] = png.name
