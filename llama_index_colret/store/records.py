"""The page row, declared once: `PageRecord` fields carry their column, and the Arrow schema, the rows
written and the records read back are all derived from them, so adding a column touches one place.

Why a dataclass and not a ``lancedb.pydantic.LanceModel``: the record is what grounding and LlamaIndex
layers read (numpy vectors, `PatchGrid`, `Region`s), the on-disk types are narrow (int16/int32, non-null,
a float16 multivector, nested structs with a fixed-size box) and would each need a pydantic annotation,
and rows are written as Arrow arrays, never through pydantic objects.
"""

from __future__ import annotations

import io
import json
import typing
from collections.abc import Callable
from dataclasses import dataclass, field, fields, replace
from typing import Any, Literal

import numpy as np
import pyarrow as pa
from PIL import Image

from ..geometry import BBox, PatchGrid
from ..ingest.page import Region

_COLUMN = "column"
BBOX_TYPE = pa.list_(pa.float64(), 4)  # normalised [x0, y0, x1, y1]
_ARROW_OF: dict[Any, pa.DataType] = {str: pa.string(), int: pa.int32(), float: pa.float64(), BBox: BBOX_TYPE}


def _same(value: Any) -> Any:
    """The identity conversion (a column stored as the attribute is)."""
    return value


@dataclass(frozen=True)
class Column:
    """How one `PageRecord` attribute is stored: column name, Arrow type and the two conversions.

    ``type`` None marks the multivector column, typed by the index's dim; ``filterable``: a filter may name it.
    """

    name: str
    type: pa.DataType | None
    nullable: bool = False
    filterable: bool = False
    encode: Callable[[Any], Any] = _same
    decode: Callable[[Any], Any] = _same


def column(arrow_type: pa.DataType | None, *, name: str = "", init: bool = True, repr: bool = True, **spec: Any) -> Any:
    """A dataclass field stored as one column (named like the attribute unless ``name`` is given)."""
    return field(metadata={_COLUMN: Column(name, arrow_type, **spec)}, init=init, repr=repr)


def struct_of(cls: type) -> pa.StructType:
    """The Arrow struct of a storage dataclass (`Region`, `PatchGrid`): one field per dataclass field, in order."""
    hints = typing.get_type_hints(cls)
    return pa.struct([pa.field(f.name, _arrow_type(hints[f.name])) for f in fields(cls)])


def _arrow_type(hint: Any) -> pa.DataType:
    """Arrow type of a field annotation: str/Literal[str] -> string, int -> int32, float, `BBox` -> 4 floats."""
    return pa.string() if typing.get_origin(hint) is Literal else _ARROW_OF[hint]


def metadata_json(metadata: dict[str, Any]) -> str:
    """The stored JSON form of user metadata (sorted keys, so equal metadata gives equal strings)."""
    return json.dumps(metadata, sort_keys=True, ensure_ascii=False)


GRID_TYPE = struct_of(PatchGrid)
REGION_TYPE = struct_of(Region)


@dataclass
class PageRecord:
    """One stored page: identity, size, metadata, regions, text, grid, vectors and the rendered image.

    ``vectors``: ``(n_vectors, dim)`` float16 as stored (every non-padding output vector);
    ``patch_positions``: ``(n_rows * n_cols,)`` row in ``vectors`` of each grid cell, raster order.
    Field order is column order.
    """

    doc_id: str = column(pa.string(), filterable=True)
    page_number: int = column(pa.int32(), filterable=True)  # 1-based
    content_hash: str = column(pa.string(), filterable=True)  # sha256 of the file's bytes
    file_name: str = column(pa.string(), filterable=True)
    path: str = column(pa.string(), filterable=True)
    width_pt: float = column(pa.float64(), filterable=True)  # displayed (rotated) page size
    height_pt: float = column(pa.float64(), filterable=True)
    rotation: int = column(pa.int16())
    dpi: int = column(pa.int32())  # resolution of the stored image
    metadata: dict[str, Any] = column(pa.string(), name="metadata_json", encode=metadata_json, decode=json.loads)
    n_vectors: int = column(pa.int32(), filterable=True, init=False)  # sizes the search cache without vectors
    vectors: np.ndarray = column(None)
    patch_positions: np.ndarray = column(  # raster order -> row in vectors
        pa.list_(pa.int32()),
        encode=lambda p: np.asarray(p, np.int64).tolist(),
        decode=lambda p: np.asarray(p, np.int64),
    )
    grid: PatchGrid = column(GRID_TYPE, encode=PatchGrid.to_dict, decode=PatchGrid.from_dict)
    regions: list[Region] = column(
        pa.list_(REGION_TYPE),
        encode=lambda rs: [r.to_dict() for r in rs],
        decode=lambda rs: [Region.from_dict(r) for r in rs],
    )
    text: str = column(pa.string())
    image_bytes: bytes = column(pa.binary(), name="image", repr=False)  # PNG
    image_width: int = column(pa.int32())
    image_height: int = column(pa.int32())
    page_error: str | None = column(pa.string(), nullable=True)  # e.g. OCR failed: kept without regions

    def __post_init__(self) -> None:
        """Derive the stored vector count from the vectors."""
        self.n_vectors = int(self.vectors.shape[0])

    @property
    def patch_vectors(self) -> np.ndarray:
        """Image-patch vectors in raster order: ``(n_rows * n_cols, dim)``."""
        return self.vectors[self.patch_positions]

    def image(self) -> Image.Image:
        """The stored page image (RGB), decoded from its PNG bytes."""
        with Image.open(io.BytesIO(self.image_bytes)) as img:
            return img.convert("RGB")

    def to_row(self) -> dict[str, Any]:
        """The row of the pages table (``from_pylist`` form), without the multivector column."""
        return {c.name: c.encode(getattr(self, attr)) for attr, c in PAGE_COLUMNS if c.type is not None}

    @classmethod
    def from_row(cls, row: dict[str, Any], vectors: np.ndarray) -> PageRecord:
        """From a row of the pages table (``to_pylist`` form) and its decoded ``(n, dim)`` vectors."""
        init = {f.name for f in fields(cls) if f.init}
        values = {attr: c.decode(row.get(c.name)) for attr, c in PAGE_COLUMNS if attr in init and c.type is not None}
        return cls(**values, vectors=vectors)


def _page_columns() -> tuple[tuple[str, Column], ...]:
    """``(attribute, Column)`` of every stored `PageRecord` field, in column order, names resolved."""
    declared = [(f.name, f.metadata[_COLUMN]) for f in fields(PageRecord)]
    return tuple((attr, replace(c, name=c.name or attr)) for attr, c in declared)


PAGE_COLUMNS = _page_columns()


@dataclass(frozen=True)
class DocumentInfo:
    """One stored document: its id, file, content hash, page count and user metadata."""

    doc_id: str
    file_name: str
    path: str
    content_hash: str
    n_pages: int
    metadata: dict[str, Any]

    #: The page columns a document's description is read from.
    COLUMNS = ("doc_id", "file_name", "path", "content_hash", "metadata_json")

    @classmethod
    def from_page_rows(cls, rows: list[dict[str, Any]]) -> list[DocumentInfo]:
        """One description per document of page rows holding `COLUMNS`, ordered by doc_id."""
        docs: dict[str, dict[str, Any]] = {}
        for r in rows:
            d = docs.setdefault(r["doc_id"], {**r, "n_pages": 0})
            d["n_pages"] += 1
        return [
            cls(d["doc_id"], d["file_name"], d["path"], d["content_hash"], d["n_pages"], json.loads(d["metadata_json"]))
            for _, d in sorted(docs.items())
        ]
