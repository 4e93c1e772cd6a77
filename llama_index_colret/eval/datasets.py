"""Readers and writers for the two evaluation layouts: grounding (BBox-DocVQA-like) and retrieval (BEIR-like).

Grounding, ``DIR/questions.jsonl``, one object per question::

    {"id": "q1", "question": "...", "answer": "...",            # answer optional
     "evidence": [{"image": "images/x.png", "page": 3, "doc": "name",
                   "boxes": [[x0, y0, x1, y1], ...],              # pixels on that image
                   "kinds": ["text", ...],                        # optional, one per box
                   "width": 1275, "height": 1650}]}               # optional, else read from the image

The real BBox-DocVQA release (``BBox_DocVQA_Bench.jsonl`` / ``BBox_DocVQA_Train.jsonl`` on the Hugging
Face hub, dataset card by Yuwh07) is read as well: ``query``/``question``, ``answer``, ``category``,
``doc_name``, ``evidence_page`` (1-based), ``image_paths``/``images``, ``bbox`` (per page, a list of
pixel boxes) and ``subimg_tpye`` (sic; per page, one of text/image/table per box; ``subimg_type``
accepted too). It has no id, so ids are ``<doc_name>#<line>``; its ``image`` kind is our ``figure``.

Retrieval, BEIR style: ``DIR/queries.jsonl`` ``{"_id", "text"}``, ``DIR/corpus.jsonl``
``{"_id", "image"}`` (a page image path relative to DIR), and qrels as TSV with a header
``query-id, corpus-id, score``, at ``DIR/qrels.tsv`` or BEIR's ``DIR/qrels/<split>.tsv``. ViDoRe's
BEIR-style column names (``query-id``/``query``, ``corpus-id``) are accepted too.
Pixel boxes become normalised `BBox`es through `BBox.from_pixels` only.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from PIL import Image

from ..errors import DatasetError
from ..geometry import BBox

PixelBox = tuple[float, float, float, float]
KIND_ALIASES = {"image": "figure", "figure": "figure", "chart": "figure", "text": "text", "table": "table"}
BOX_SLACK = 0.02  # a box may overhang its image by 2% of a side (annotation noise); it is clipped


@dataclass(frozen=True)
class Evidence:
    """One evidence page of a question: its image, page number, document, and GT pixel boxes with kinds."""

    image: Path
    page: int
    doc: str
    pixel_boxes: tuple[PixelBox, ...]
    kinds: tuple[str, ...]
    width: int
    height: int

    @property
    def boxes(self) -> list[BBox]:
        """The ground-truth boxes normalised to the page."""
        return [BBox.from_pixels(*b, width=self.width, height=self.height) for b in self.pixel_boxes]


@dataclass(frozen=True)
class GroundingQuestion:
    """A question with one or more evidence pages; ``category`` is the dataset's subject label if any."""

    id: str
    question: str
    evidence: tuple[Evidence, ...]
    answer: str | None = None
    category: str | None = None

    @property
    def kinds(self) -> list[str]:
        """The kinds of all its ground-truth boxes, page after page."""
        return [k for e in self.evidence for k in e.kinds]


def _jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    """``(line number, object)`` for every non-blank line of a JSONL file."""
    if not path.is_file():
        raise DatasetError(path, "file not found")
    with path.open(encoding="utf-8") as fh:
        for n, line in enumerate(fh, start=1):
            if not line.strip():
                continue
            try:
                obj = json.loads(line)
            except json.JSONDecodeError as exc:
                raise DatasetError(path, f"not valid JSON ({exc.msg})", n) from exc
            if not isinstance(obj, dict):
                raise DatasetError(path, f"expected a JSON object, got {type(obj).__name__}", n)
            yield n, obj


def _field(obj: dict[str, Any], names: Sequence[str], path: Path, line: int) -> Any:
    for name in names:
        if obj.get(name) is not None:
            return obj[name]
    raise DatasetError(path, f"missing field {' or '.join(repr(n) for n in names)}", line)


def _kind(raw: Any, path: Path, line: int) -> str:
    kind = KIND_ALIASES.get(str(raw).strip().lower())
    if kind is None:
        raise DatasetError(path, f"unknown region kind {raw!r}; expected one of {sorted(KIND_ALIASES)}", line)
    return kind


def _pixel_box(raw: Any, width: int, height: int, where: tuple[Path, int]) -> PixelBox:
    """A checked pixel box, clipped to the image; inverted, empty or far-outside boxes are errors."""
    path, line = where
    if not isinstance(raw, (list, tuple)) or len(raw) != 4 or not all(isinstance(v, (int, float)) for v in raw):
        raise DatasetError(path, f"a box must be [x0, y0, x1, y1] numbers, got {raw!r}", line)
    x0, y0, x1, y1 = (float(v) for v in raw)
    if x1 <= x0 or y1 <= y0:
        raise DatasetError(path, f"box {list(raw)} is empty or inverted (need x0 < x1 and y0 < y1)", line)
    sx, sy = BOX_SLACK * width, BOX_SLACK * height
    if x0 < -sx or y0 < -sy or x1 > width + sx or y1 > height + sy:
        raise DatasetError(path, f"box {list(raw)} lies outside its {width}x{height} image", line)
    return (max(x0, 0.0), max(y0, 0.0), min(x1, float(width)), min(y1, float(height)))


def _image_size(image: Path, obj: dict[str, Any], where: tuple[Path, int]) -> tuple[int, int]:
    """``(width, height)`` from the record when given, else from the image header."""
    if obj.get("width") is not None and obj.get("height") is not None:
        return int(obj["width"]), int(obj["height"])
    if not image.is_file():
        raise DatasetError(where[0], f"page image {image} not found", where[1])
    with Image.open(image) as im:  # reads the header only
        return im.size


def _evidence(
    root: Path, image: str, page: Any, doc: str, boxes: Any, kinds: Any, obj: dict[str, Any], where: tuple[Path, int]
) -> Evidence:
    """One checked evidence page; ``obj`` may carry the image's ``width`` and ``height``."""
    path, line = where
    img = root / image
    width, height = _image_size(img, obj, where)
    if not isinstance(boxes, list) or not boxes:
        raise DatasetError(path, f"evidence page {image} has no ground-truth boxes", line)
    kinds = kinds if kinds is not None else ["text"] * len(boxes)
    if isinstance(kinds, str):
        kinds = [kinds] * len(boxes)
    if len(kinds) != len(boxes):
        raise DatasetError(path, f"{len(kinds)} kinds for {len(boxes)} boxes on {image}", line)
    try:
        page_no = int(page)
    except (TypeError, ValueError) as exc:
        raise DatasetError(path, f"page number {page!r} is not an integer", line) from exc
    return Evidence(
        image=img,
        page=page_no,
        doc=str(doc),
        pixel_boxes=tuple(_pixel_box(b, width, height, where) for b in boxes),
        kinds=tuple(_kind(k, path, line) for k in kinds),
        width=width,
        height=height,
    )


def _ours(root: Path, obj: dict[str, Any], where: tuple[Path, int]) -> GroundingQuestion:
    """A record of our own layout."""
    path, line = where
    items = _field(obj, ["evidence"], path, line)
    if not isinstance(items, list) or not items:
        raise DatasetError(path, "'evidence' must be a non-empty list", line)
    evidence = tuple(
        _evidence(
            root,
            str(_field(e, ["image"], path, line)),
            e.get("page", 1),
            e.get("doc", ""),
            e.get("boxes"),
            e.get("kinds"),
            e,
            where,
        )
        for e in items
    )
    return GroundingQuestion(
        id=str(_field(obj, ["id"], path, line)),
        question=str(_field(obj, ["question"], path, line)),
        evidence=evidence,
        answer=obj.get("answer"),
        category=obj.get("category"),
    )


def _bbox_docvqa(root: Path, obj: dict[str, Any], where: tuple[Path, int]) -> GroundingQuestion:
    """A record of the BBox-DocVQA release (parallel per-page lists)."""
    path, line = where
    images = _field(obj, ["image_paths", "images"], path, line)
    images = [images] if isinstance(images, str) else list(images)
    pages = obj.get("evidence_page") or list(range(1, len(images) + 1))
    pages = [pages] if isinstance(pages, (int, str)) else list(pages)
    boxes = _field(obj, ["bbox"], path, line)
    if boxes and isinstance(boxes[0], (int, float)):
        boxes = [[boxes]]  # one flat box
    elif boxes and boxes[0] and isinstance(boxes[0][0], (int, float)):
        boxes = [boxes]  # one page's list of boxes
    kinds = obj.get("subimg_tpye", obj.get("subimg_type"))
    kinds = [kinds] * len(images) if kinds is None or isinstance(kinds, str) else list(kinds)
    if not len(images) == len(pages) == len(boxes) == len(kinds):
        raise DatasetError(
            path,
            f"per-page lists disagree: {len(images)} images, {len(pages)} evidence pages, "
            f"{len(boxes)} box lists, {len(kinds)} kind lists",
            line,
        )
    doc = str(obj.get("doc_name", ""))
    evidence = tuple(
        _evidence(root, str(img), pg, doc, bx, kd, obj if len(images) == 1 else {}, where)
        for img, pg, bx, kd in zip(images, pages, boxes, kinds, strict=True)
    )
    return GroundingQuestion(
        id=str(obj.get("id", f"{doc}#{where[1]}")),
        question=str(_field(obj, ["question", "query"], path, line)),
        evidence=evidence,
        answer=obj.get("answer"),
        category=obj.get("category"),
    )


def grounding_file(root: str | Path) -> Path:
    """The questions file of a grounding dataset folder: ``questions.jsonl``, else one ``BBox_DocVQA*.jsonl``."""
    root = Path(root)
    if root.is_file():
        return root
    if not root.is_dir():
        raise DatasetError(root, "dataset folder not found")
    if (root / "questions.jsonl").is_file():
        return root / "questions.jsonl"
    found = sorted(root.glob("BBox_DocVQA*.jsonl")) or sorted(root.glob("*.jsonl"))
    if len(found) != 1:
        listed = ", ".join(p.name for p in found) or "none"
        raise DatasetError(root, f"expected questions.jsonl or exactly one .jsonl file, found {listed}")
    return found[0]


def read_grounding_dataset(root: str | Path) -> list[GroundingQuestion]:
    """Every question of a grounding dataset (a folder, or its JSONL file); image paths are relative to it."""
    path = grounding_file(root)
    base = path.parent
    questions: list[GroundingQuestion] = []
    seen: set[str] = set()
    for line, obj in _jsonl(path):
        parse = _ours if "evidence" in obj else _bbox_docvqa
        q = parse(base, obj, (path, line))
        if q.id in seen:
            raise DatasetError(path, f"duplicate question id {q.id!r}", line)
        seen.add(q.id)
        questions.append(q)
    return questions


def write_grounding_dataset(root: str | Path, questions: Sequence[GroundingQuestion]) -> Path:
    """Write ``questions`` as ``root/questions.jsonl`` in our layout (image paths relative to ``root``)."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    out = root / "questions.jsonl"
    with out.open("w", encoding="utf-8") as fh:
        for q in questions:
            record: dict[str, Any] = {"id": q.id, "question": q.question, "evidence": []}
            for e in q.evidence:
                image = e.image.relative_to(root) if e.image.is_relative_to(root) else e.image
                record["evidence"].append(
                    {
                        "image": image.as_posix(),
                        "page": e.page,
                        "doc": e.doc,
                        "boxes": [list(b) for b in e.pixel_boxes],
                        "kinds": list(e.kinds),
                        "width": e.width,
                        "height": e.height,
                    }
                )
            if q.answer is not None:
                record["answer"] = q.answer
            if q.category is not None:
                record["category"] = q.category
            fh.write(json.dumps(record, ensure_ascii=False) + "\n")
    return out


# -- retrieval (BEIR / ViDoRe style) ------------------------------------------------------------------


@dataclass(frozen=True)
class RetrievalDataset:
    """Queries by id, corpus page images by id, and graded qrels (query id -> corpus id -> grade)."""

    queries: dict[str, str]
    corpus: dict[str, Path]
    qrels: dict[str, dict[str, int]]


def _qrels_file(root: Path, split: str) -> Path:
    for candidate in (root / "qrels.tsv", root / "qrels" / f"{split}.tsv"):
        if candidate.is_file():
            return candidate
    raise DatasetError(root, f"no qrels: expected qrels.tsv or qrels/{split}.tsv")


def _read_qrels(path: Path) -> dict[str, dict[str, int]]:
    """Rows ``query-id, corpus-id, score`` (tab-separated); a first row whose score is not a number is a header."""
    qrels: dict[str, dict[str, int]] = {}
    with path.open(encoding="utf-8", newline="") as fh:
        for n, row in enumerate(csv.reader(fh, delimiter="\t"), start=1):
            if not row or not "".join(row).strip():
                continue
            if len(row) < 3:
                raise DatasetError(path, f"expected query-id, corpus-id, score; got {row!r}", n)
            try:
                grade = int(float(row[2]))
            except ValueError as exc:
                if n == 1:
                    continue  # header
                raise DatasetError(path, f"score {row[2]!r} is not a number", n) from exc
            qrels.setdefault(row[0].strip(), {})[row[1].strip()] = grade
    return qrels


def read_retrieval_dataset(root: str | Path, split: str = "test") -> RetrievalDataset:
    """Read ``queries.jsonl``, ``corpus.jsonl`` and the qrels of a BEIR-style folder; check every reference."""
    root = Path(root)
    if not root.is_dir():
        raise DatasetError(root, "dataset folder not found")
    qpath, cpath = root / "queries.jsonl", root / "corpus.jsonl"
    queries = {
        str(_field(o, ["_id", "query-id"], qpath, n)): str(_field(o, ["text", "query"], qpath, n))
        for n, o in _jsonl(qpath)
    }
    corpus: dict[str, Path] = {}
    for n, o in _jsonl(cpath):
        image = root / str(_field(o, ["image", "image_path"], cpath, n))
        if not image.is_file():
            raise DatasetError(cpath, f"page image {image} not found", n)
        corpus[str(_field(o, ["_id", "corpus-id"], cpath, n))] = image
    qrels_path = _qrels_file(root, split)
    qrels = _read_qrels(qrels_path)
    for qid, judged in qrels.items():
        if qid not in queries:
            raise DatasetError(qrels_path, f"query id {qid!r} is not in {qpath.name}")
        unknown = sorted(set(judged) - set(corpus))
        if unknown:
            raise DatasetError(qrels_path, f"corpus ids {unknown[:5]} of query {qid!r} are not in {cpath.name}")
    return RetrievalDataset(queries=queries, corpus=corpus, qrels=qrels)


def write_retrieval_dataset(root: str | Path, data: RetrievalDataset) -> Path:
    """Write ``data`` as ``queries.jsonl``, ``corpus.jsonl`` and ``qrels.tsv`` (with header) under ``root``."""
    root = Path(root)
    root.mkdir(parents=True, exist_ok=True)
    with (root / "queries.jsonl").open("w", encoding="utf-8") as fh:
        for qid, text in data.queries.items():
            fh.write(json.dumps({"_id": qid, "text": text}, ensure_ascii=False) + "\n")
    with (root / "corpus.jsonl").open("w", encoding="utf-8") as fh:
        for cid, image in data.corpus.items():
            rel = image.relative_to(root) if image.is_relative_to(root) else image
            fh.write(json.dumps({"_id": cid, "image": rel.as_posix()}, ensure_ascii=False) + "\n")
    with (root / "qrels.tsv").open("w", encoding="utf-8", newline="") as fh:
        writer = csv.writer(fh, delimiter="\t", lineterminator="\n")
        writer.writerow(["query-id", "corpus-id", "score"])
        for qid, judged in data.qrels.items():
            for cid, grade in judged.items():
                writer.writerow([qid, cid, grade])
    return root
