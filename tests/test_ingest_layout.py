"""Pure layout rules on hand-made word boxes: column order across a bridging footer, paragraph cuts."""

from __future__ import annotations

from llama_index_colret.ingest import formulas, layout


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


def math_block(text: str, x0: float, y0: float, h: float = 10.0, math: bool = True) -> layout.Block:
    """One line of ``text`` set in a math font (or a text font) as a block of its own."""
    style = layout.MATH if math else 0
    return layout.Block([layout.Line([layout.Word(w.text, w.x0, w.y0, w.x1, w.y1, style=style)
                                      for w in line(text, x0, y0, h=h)])])  # fmt: skip


def test_pieces_of_a_displayed_formula_become_one_block_read_left_to_right() -> None:
    before = block(line("the energy of the system is", 10, 10))
    pieces = [math_block("a + b", 62, 40), math_block("E =", 40, 46), math_block("2c", 65, 53),
              math_block("2", 98, 42, h=7.0), math_block("+ x", 80, 46)]  # fmt: skip
    number = math_block("(1)", 300, 46, math=False)
    after = block(line("where c is the speed of light", 10, 80))
    out = formulas.join_display_math([before, *pieces, number, after], h=10.0)
    assert [b.text for b in out] == [before.text, "E = a + b 2c + x 2", "(1)", after.text]


def test_scraps_and_prose_never_join_without_math() -> None:
    cells = [math_block("12", 40, 40, math=False), math_block("7", 60, 40, math=False)]  # a table row of digits
    prose = [block(line("a paragraph set in a text font", 10, 10)), math_block("x", 10, 23)]  # inline "x" below
    assert len(formulas.join_display_math(cells, h=10.0)) == 2
    far = [math_block("y = 1", 40, 40), math_block("z = 2", 40, 60)]  # two displays a line apart
    assert len(formulas.join_display_math(far, h=10.0)) == 2
    assert len(formulas.join_display_math(prose, h=10.0)) == 2


def test_a_display_line_does_not_run_on_into_the_paragraph_under_it() -> None:
    formula = layout.Line(
        [layout.Word(w.text, w.x0, w.y0, w.x1, w.y1, style=layout.MATH) for w in line("y = k t", 40, 10)]
    )
    inline = layout.Line([*line("Here", 10, 30), *[layout.Word(w.text, w.x0, w.y0, w.x1, w.y1, style=layout.MATH)
                                                  for w in line("S = T", 40, 30)]])  # fmt: skip
    prose = layout.Line(line("where k is a rate and t the time", 10, 23))
    assert layout.is_display_math(formula) and not layout.is_display_math(inline)
    assert [b.text for b in layout.group_blocks([formula, prose], para_gap=4.0)] == ["y = k t", prose.text]
