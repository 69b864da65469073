"""Every figure a command writes fits a blog post: at most 2400 px tall, and no two figures
of one folder share a title (each PNG records its title as ``Title`` metadata).

Checked on the folder each command's own test already writes (run, sensitivity, sweep,
compare, calibrate, priors), not on folders written again for this check alone.
"""

from __future__ import annotations

from pathlib import Path

from PIL import Image

#: The tallest PNG a command may write, in pixels.
MAX_HEIGHT_PX = 2400


def check_figures(folder: Path) -> None:
    """Assert that ``folder`` holds PNGs, each at most :data:`MAX_HEIGHT_PX` tall and titled,
    no two with one title."""
    pngs = sorted(Path(folder).glob("*.png"))
    assert pngs, f"{folder} holds no PNG"
    titles = {}
    for png in pngs:
        with Image.open(png) as image:
            assert image.height <= MAX_HEIGHT_PX, f"{png.name} is {image.height} px tall"
            title = image.info.get("Title", "")
        assert title, f"{png.name} records no title"
        assert title not in titles, f"{png.name} and {titles.get(title)} share the title {title!r}"
        titles[title] = png.name
