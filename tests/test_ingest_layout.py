"""Pure layout rules on hand-made word boxes: column order across a bridging footer, paragraph cuts."""

from __future__ import annotations

from llama_index_colret.ingest import layout


def line(text: str, x0: float, y0: float, width: float | None = None, h: float = 10.0) -> list[layout.Word]:
    """Words of one line starting at ``x0``, 6 units per character plus a 3-unit space."""
    words, x = [], x0
    for token in text.split():
        w = 6.0 * len(token)
        words.append(layout.Word(token, x, y0, x + w, y0 + h))
        x += w + 3.0
    if width is not None:  # stretch the last word so the line ends at x0 + width (justified text)
        last = words[-1]
        words[-1] = layout.Word(last.text, last.x0, last.y0, x0 + width, last.y1)
    return words


def reading_order(words: list[layout.Word]) -> list[str]:
    lines = layout.group_lines(words)
    gap = layout.paragraph_gap(lines)
    leaves = layout.xy_cut(lines, v_gap=layout.LINE_GAP * 10, h_gap=gap)
    return [b.text for leaf in leaves for b in layout.group_blocks(leaf, gap)]


def test_columns_stay_in_order_when_short_lines_bridge_the_gutter() -> None:
    words: list[layout.Word] = []
    for i in range(8):  # two paragraphs per column; their gaps do not line up across the columns
        words += line(f"left paragraph {i // 4} row {i}", 10, 20 + 14 * i + 10 * (i >= 4), width=150)
        words += line(f"right paragraph {i // 6} row {i}", 190, 20 + 14 * i + 10 * (i >= 6), width=150)
    words += line("1234", 163, 69)  # a mark in the 30-unit gutter, between rows: no 8-unit gap is left
    words += line("Page 1 of 9", 140, 150)  # a footer across the gutter, too close below for a band cut
    order = [t.split(" row")[0] for t in reading_order(words) if "paragraph" in t]
    assert order == ["left paragraph 0", "left paragraph 1", "right paragraph 0", "right paragraph 1"]


def block(*lines: list[layout.Word]) -> layout.Block:
    return layout.Block([layout.Line(ws) for ws in lines])


def test_first_line_indent_after_a_short_line_starts_a_paragraph() -> None:
    b = block(
        line("the end of one paragraph that fills", 10, 0, width=300),
        line("its last line.", 10, 12),
        line("A new paragraph starts indented and", 30, 24, width=280),
        line("wraps back to the margin.", 10, 36),
    )
    assert [p.text for p in layout.split_paragraphs(b)] == [
        "the end of one paragraph that fills its last line.",
        "A new paragraph starts indented and wraps back to the margin.",
    ]


def test_hanging_indent_and_wrapped_lines_stay_together() -> None:
    b = block(
        line("The above-entitled matter came on for oral", 10, 0, width=320),
        line("STEVEN MERCER, Deputy Attorney General, Los", 10, 12, width=280),  # ragged right, not short
        line("Angeles; on behalf of the Petitioner.", 30, 24),
    )
    assert len(layout.split_paragraphs(b)) == 1


def test_bullets_start_paragraphs() -> None:
    b = block(
        line("Send comments by:", 10, 0),
        line("• Fax: 202-493-2251, or", 10, 12, width=300),
        line("• Mail: U.S. Department of Transportation", 10, 24),
    )
    assert [p.text[:6] for p in layout.split_paragraphs(b)] == ["Send c", "• Fax:", "• Mail"]


def test_running_footer_row_is_one_line() -> None:
    body = [w for i in range(4) for w in line("plain body text of the page runs on here", 0.0, 12.0 * i)]
    fields = ["VerDate Sep 2014", "16:21 Aug 05, 2020", "Jkt 250001", "PO 00000", "Frm 00001"]
    footer, x = [], 0.0
    for f in fields:  # fields 12 units apart (1.2 heights: more than a line gap, no column gutter)
        footer += line(f, x, 200.0)
        x = footer[-1].x1 + 12.0
    lines = layout.join_running_rows(layout.group_lines(body + footer))
    assert [ln.text for ln in lines if ln.y0 >= 200.0] == [" ".join(fields)]
    assert len(lines) == 5


def test_row_of_short_lines_near_text_stays_apart() -> None:
    cells = [w for k, f in enumerate(["north 12", "south 7", "east 3"]) for w in line(f, 60.0 * k, 0.0)]
    body = line("a line of text directly below the short cells", 0.0, 12.0)
    lines = layout.join_running_rows(layout.group_lines(cells + body))
    assert len(lines) == 4


def _spaced(texts: list[str], gaps: list[float], h: float = 10.0) -> list[layout.Word]:
    """One row of words, 6 units per character, with the given gaps (units) between them."""
    words, x = [], 0.0
    for k, t in enumerate(texts):
        words.append(layout.Word(t, x, 0.0, x + 6.0 * len(t), h))
        x = words[-1].x1 + (gaps[k] if k < len(gaps) else 0.0)
    return words


def test_sentence_space_in_a_loosely_justified_line_is_no_gutter() -> None:
    # word spaces stretched to 0.5 heights, the sentence space after "there." to 0.87 (ms_astroph_p7)
    texts = ["plasma", "accumulates", "there.", "However,", "the", "pressure", "does", "not"]
    lines = layout.group_lines(_spaced(texts, [5.0, 5.0, 8.7, 5.0, 5.0, 5.0, 5.0]))
    assert [ln.text for ln in lines] == [" ".join(texts)]


def test_gutter_stays_a_cut_however_stretched_the_words() -> None:
    texts = ["left", "column", "text", "here", "right", "column", "text", "here"]
    lines = layout.group_lines(_spaced(texts, [5.0, 5.0, 5.0, 11.0, 5.0, 5.0, 5.0]))  # a gutter of 1.1 heights
    assert [ln.text for ln in lines] == ["left column text here", "right column text here"]
