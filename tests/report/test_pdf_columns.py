"""Column widths that never force a word apart (detente.report.pdf_columns), on plain numbers:
a character is 1 unit wide per point of font size."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from detente.report.pdf_columns import MIN_SIZE, fit_columns, pieces


def measure(text: str, size: float) -> float:
    return len(text) * size


def test_pieces_are_words_and_single_chinese_characters() -> None:
    assert pieces("us.example/log 回执 90th percentile") == ["us.example/log", "回", "执", "90th", "percentile"]


def test_a_column_gets_its_widest_word() -> None:
    cells = [["type", "Total", "percentile"], ["hotline", "1", "2"]]
    widths, size = fit_columns(cells, [60, 30, 30], size=2, padding=2, measure=measure)
    assert size == 2
    assert abs(sum(widths) - 120) < 1e-6
    assert widths[2] >= len("percentile") * 2 + 2 and widths[1] >= len("Total") * 2 + 2
    assert widths[0] > widths[1]  # the slack went where the layout wanted it


def test_the_font_shrinks_when_words_cannot_fit() -> None:
    cells = [["abcdef", "abcdef", "abcdef"]]
    widths, size = fit_columns(cells, [40, 40, 40], size=8, padding=0, measure=measure)
    assert MIN_SIZE <= size < 8 and 3 * 6 * size <= 120 + 1e-6
    assert all(w >= 6 * size - 1e-6 for w in widths)


@given(
    st.lists(st.lists(st.text(alphabet="ab 回", max_size=12), min_size=3, max_size=3), min_size=1, max_size=5),
    st.lists(st.floats(min_value=5, max_value=200), min_size=3, max_size=3),
)
def test_widths_always_fill_the_table_and_fit_when_possible(cells: list[list[str]], preferred: list[float]) -> None:
    widths, size = fit_columns(cells, preferred, size=8, padding=1, measure=measure)
    assert abs(sum(widths) - sum(preferred)) < 1e-6
    assert MIN_SIZE <= size <= 8
    need = [max([1.0] + [len(p) * size + 1 for row in cells for p in pieces(row[i])]) for i in range(3)]
    if sum(need) <= sum(preferred):
        assert all(w >= n - 1e-6 for w, n in zip(widths, need, strict=True))
