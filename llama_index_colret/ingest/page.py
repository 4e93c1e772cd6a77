"""What ingestion produces: a `Page` (size, regions, image on demand) and its `Region`s."""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from PIL import Image

from ..geometry import BBox

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
        """The JSON and storage form: one key per field, the box as ``[x0, y0, x1, y1]``."""
        return {f.name: getattr(self, f.name) for f in fields(self)} | {"bbox": self.bbox.as_list()}

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> Region:
        """From `to_dict` form; missing keys take their defaults."""
        kept = {f.name: d[f.name] for f in fields(cls) if f.name in d}
        return cls(**kept | {"bbox": BBox.from_list(d["bbox"])})


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
        """The page as an RGB image at ``dpi`` (default: the page's ingestion dpi), via poppler."""
        from .render import render_pages

        return render_pages(self.path, [self.number], dpi=dpi or self.dpi, password=self.password)[0]

    def regions_at(self, level: RegionLevel) -> list[Region]:
        """Regions of one level, in reading order; figures and tables belong to every level."""
        return [r for r in self.regions if r.level == level or r.kind != "text"]

    @property
    def text(self) -> str:
        """The page's block text in reading order (for full-text search and BM25)."""
        return "\n".join(r.text for r in self.regions_at("block") if r.text)
