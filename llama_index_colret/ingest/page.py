"""What ingestion produces: a `Page` (size, regions, image on demand) and its `Region`s."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from ..geometry import BBox
from .render import iter_page_images

RegionKind = Literal["text", "table", "figure"]
RegionLevel = Literal["line", "block"]
RegionSource = Literal["text_layer", "ocr", "hotspot"]


@dataclass(frozen=True)
class Region:
    """A piece of a page with a box: a line or block of text, a table, or a figure."""

    text: str
    bbox: BBox
    kind: RegionKind = "text"
    level: RegionLevel = "block"
    source: RegionSource = "text_layer"

    def to_dict(self) -> dict[str, Any]:
        """The JSON and storage form."""
        return {
            "text": self.text,
            "bbox": self.bbox.as_list(),
            "kind": self.kind,
            "level": self.level,
            "source": self.source,
        }

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Region:
        return cls(
            text=d["text"],
            bbox=BBox.from_list(d["bbox"]),
            kind=d.get("kind", "text"),
            level=d.get("level", "block"),
            source=d.get("source", "text_layer"),
        )


def regions_at(regions: Sequence[Region], level: str) -> list[Region]:
    """Regions of one level in their given (reading) order; figures and tables belong to every level."""
    return [r for r in regions if r.level == level or r.kind != "text"]


@dataclass
class Page:
    """One page of a PDF: 1-based number, displayed size in PDF points, regions; image rendered on demand.

    The image is not held: `render()` draws it each time, so a 500-page PDF never holds 500 images.
    """

    path: Path
    number: int
    width_pt: float
    height_pt: float
    regions: list[Region] = field(default_factory=list)
    rotation: int = 0
    dpi: int = 150
    password: str | None = field(default=None, repr=False)
    error: str | None = None  # e.g. OCR failed: the page is kept, with no regions

    def render(self, dpi: int | None = None) -> Image.Image:
        """The page as an RGB image at ``dpi`` (default: the page's ingestion dpi), via pdfium."""
        _, image = next(iter(iter_page_images(self.path, [self.number], dpi or self.dpi, self.password)))
        return image

    def regions_at(self, level: RegionLevel) -> list[Region]:
        """Regions of one level, in reading order; figures and tables belong to every level."""
        return regions_at(self.regions, level)

    @property
    def text(self) -> str:
        """The page's block text in reading order (for full-text search and BM25)."""
        return "\n".join(r.text for r in self.regions_at("block") if r.text)
