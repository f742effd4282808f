"""Pure validation of drafted grids: each problem kind with the right cells and geometry."""

from __future__ import annotations

import pytest
from shapely.geometry import MultiPolygon, Polygon, box

from grids.grid.cell_codes import code_problem
from grids.planning.topology import DraftCell, ScopeContext, significant_parts, validate

COMM = "510108001001"
L1A, L1B = COMM + "001", COMM + "002"


def ctx(**kw) -> ScopeContext:
    communities = {COMM: box(0, 0, 200, 100)}
    return ScopeContext(communities=communities, scope=box(0, 0, 200, 100), min_area_m2=10, **kw)


def clean() -> list[DraftCell]:
    """Two level-1 cells, each with one level-2 and two level-3 cells: a perfect tiling."""
    cells = []
    for l1, x0 in ((L1A, 0), (L1B, 100)):
        cells.append(DraftCell(l1, 1, COMM, box(x0, 0, x0 + 100, 100)))
        cells.append(DraftCell(l1 + "001", 2, l1, box(x0, 0, x0 + 100, 100)))
        cells.append(DraftCell(l1 + "001001", 3, l1 + "001", box(x0, 0, x0 + 50, 100)))
        cells.append(DraftCell(l1 + "001002", 3, l1 + "001", box(x0 + 50, 0, x0 + 100, 100)))
    return cells


def replace(cells: list[DraftCell], code: str, geom) -> list[DraftCell]:
    return [DraftCell(c.code, c.level, c.parent_code, geom) if c.code == code else c for c in cells]


def kinds(problems) -> list[str]:
    return [p.kind for p in problems]


def test_a_clean_tiling_has_no_problems() -> None:
    assert validate(clean(), ctx()) == []


def test_overlap_is_reported_with_the_overlap_area() -> None:
    cells = replace(clean(), L1A + "001001", box(0, 0, 60, 100))  # 10 m into its sibling
    problems = [p for p in validate(cells, ctx()) if p.kind == "overlap"]
    assert len(problems) == 1
    assert problems[0].cells == (L1A + "001001", L1A + "001002")
    assert problems[0].area_m2 == pytest.approx(1000.0)
    assert problems[0].geom.equals(box(50, 0, 60, 100))


def test_gap_is_reported_with_the_gap_polygon_and_neighbours() -> None:
    cells = replace(clean(), L1B + "001002", box(160, 0, 200, 100))  # leaves 150..160 empty
    problems = [p for p in validate(cells, ctx()) if p.kind == "gap"]
    assert len(problems) == 1
    gap = problems[0]
    assert gap.cells[0] == L1B + "001"
    assert set(gap.cells[1:]) == {L1B + "001001", L1B + "001002"}
    assert gap.area_m2 == pytest.approx(1000.0)
    assert gap.geom.equals(box(150, 0, 160, 100))


def test_outside_parent_and_outside_scope_are_told_apart() -> None:
    # level-3 cell of A reaches into B (inside the scope) and beyond the scope (y > 100)
    cells = replace(clean(), L1A + "001002", box(50, 0, 110, 120))
    problems = validate(cells, ctx())
    outside = [p for p in problems if p.kind == "outside_parent"]
    beyond = [p for p in problems if p.kind == "outside_scope"]
    assert outside and outside[0].cells == (L1A + "001002", L1A + "001")
    assert outside[0].area_m2 == pytest.approx(10 * 100)
    assert beyond and beyond[0].area_m2 == pytest.approx(60 * 20)


def test_self_intersection_reports_the_geos_reason_and_point() -> None:
    bowtie = Polygon([(0, 0), (50, 100), (50, 0), (0, 100), (0, 0)])
    cells = replace(clean(), L1A + "001001", bowtie)
    problem = next(p for p in validate(cells, ctx()) if p.kind == "invalid_geometry")
    assert problem.cells == (L1A + "001001",)
    assert problem.detail.startswith("Self-intersection")
    assert problem.geom.geom_type == "Point"
    assert problem.geom.x == pytest.approx(25.0) and problem.geom.y == pytest.approx(50.0)


def test_duplicate_and_bad_codes() -> None:
    cells = clean()
    cells.append(DraftCell(L1A + "001001", 3, L1A + "001", box(0, 0, 1, 1)))
    cells.append(DraftCell(L1A + "00X", 2, L1A, box(0, 0, 50, 50)))
    problems = validate(cells, ctx())
    dup = next(p for p in problems if p.kind == "duplicate_code")
    assert dup.cells == (L1A + "001001", L1A + "001001")
    bad = [p for p in problems if p.kind == "bad_code"]
    assert any("not all digits" in p.detail for p in bad)


def test_orphan_too_small_and_empty_parent() -> None:
    cells = [c for c in clean() if not c.code.startswith(L1B + "001")]  # B loses its subtree
    cells.append(DraftCell(L1A + "009001", 3, L1A + "009", box(0, 0, 1, 1)))
    problems = validate(cells, ctx())
    assert ("orphan", (L1A + "009001",)) in [(p.kind, p.cells) for p in problems]
    assert ("too_small", (L1A + "009001",)) in [(p.kind, p.cells) for p in problems]
    empty = next(p for p in problems if p.kind == "empty_parent")
    assert empty.cells == (L1B,)
    assert empty.area_m2 == pytest.approx(100 * 100)


def test_noise_below_the_tolerance_is_dropped_but_nothing_wider() -> None:
    # a 1 mm sliver of overlap is float noise; a 10 cm one is a real problem
    noisy = replace(clean(), L1A + "001001", box(0, 0, 50.001, 100))
    assert validate(noisy, ctx()) == []
    real = replace(clean(), L1A + "001001", box(0, 0, 50.1, 100))
    assert "overlap" in kinds(validate(real, ctx()))
    # and the tolerance is configurable: at 0.2 m the 10 cm overlap is noise
    assert "overlap" not in kinds(validate(real, ctx(tolerance_m=0.2)))


def test_significant_parts_keeps_thin_but_long_pieces_only_above_the_width() -> None:
    pieces = MultiPolygon([box(0, 0, 1000, 0.03), box(0, 10, 1000, 10.06)])
    kept = significant_parts(pieces, ctx())
    assert len(kept) == 1 and kept[0].bounds[1] == 10


@pytest.mark.parametrize(
    ("code", "level", "parent", "fragment"),
    [
        (L1A, 4, COMM, "not 1, 2 or 3"),
        (L1A + "1", 1, COMM, "15 digits"),
        (COMM + "000", 1, COMM, "000"),
        ("510108001999001", 1, None, "not a community of this scope"),
        (L1A + "001", 2, L1B, "must start with its parent"),
        (L1A, 1, L1B, "names"),
    ],
)
def test_code_rules(code: str, level: int, parent: str | None, fragment: str) -> None:
    reason = code_problem(code, level, parent, {COMM})
    assert reason and fragment in reason


def test_a_well_formed_code_passes() -> None:
    assert code_problem(L1A + "001", 2, L1A, {COMM}) is None
    assert code_problem(L1A, 1, None, {COMM}) is None
