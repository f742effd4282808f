"""Coverage and gaps: which required targets online cameras see, per courtyard, community, street.

A target is covered when it lies in (or on the edge of) the visible part of an
online camera's view.  An uncovered target is a gap, with the reason why:
`camera_offline` (an offline camera would see it), `occluded` (it lies in an
online camera's sector but a building hides it) or `no_camera`.  A courtyard's
area counts as covered when online cameras see at least
`AnalyticsSettings.courtyard_covered_share` of it; one that cameras see, but
less of, is `too_little_seen` (its cameras exist, so "no camera" would mislead).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pandas as pd
import shapely
from sqlalchemy import text
from sqlalchemy.orm import Session

from layers.analytics import coverage, coverage_targets
from layers.analytics.coverage_figures import (
    AreaCoverage,
    Cameras,
    Counted,
    CourtyardFigures,
    CoverageSummary,
    Gaps,
    NationalTarget,
    NationalTargets,
)
from layers.analytics.settings import AnalyticsSettings
from layers.analytics.visibility import group_union
from layers.core.errors import NotFoundError

logger = logging.getLogger(__name__)

REASONS = ("camera_offline", "occluded", "too_little_seen", "no_camera")


@dataclass(frozen=True)
class Scope:
    """Community ids a report is restricted to (None = the whole district) and its label."""

    community_ids: frozenset[int] | None
    label: str


def resolve_scope(*, session: Session, street: str | None, community: str | None) -> Scope:
    """A street or community code → the communities in it (404 for an unknown code)."""
    if community:
        ids = session.execute(
            text("SELECT id FROM communities WHERE code = :c"), {"c": community}
        ).scalars()
        found = frozenset(ids)
        if not found:
            raise NotFoundError(f"no community with code {community}", code="unknown_community")
        return Scope(found, f"community {community}")
    if street:
        ids = session.execute(
            text(
                "SELECT c.id FROM communities c JOIN streets s ON s.id = c.street_id"
                " WHERE s.code = :s"
            ),
            {"s": street},
        ).scalars()
        found = frozenset(ids)
        if not found:
            raise NotFoundError(f"no street with code {street}", code="unknown_street")
        return Scope(found, f"street {street}")
    return Scope(None, "district")


@dataclass(frozen=True, kw_only=True)
class CoverageReport:
    """Figures, per-area table, courtyards and gap targets of one coverage evaluation."""

    summary: CoverageSummary
    areas: list[AreaCoverage]
    courtyards: pd.DataFrame  # metric `geometry`, covered_share, entrances, entrances_seen
    targets: pd.DataFrame  # every required target with covered, reason, seen_by
    views: pd.DataFrame  # camera views (metric sector/visible) with online flags


def _hits(tree: shapely.STRtree, geoms: np.ndarray) -> np.ndarray:
    """Boolean per geometry: intersects some geometry of the tree."""
    if len(geoms) == 0 or len(tree.geometries) == 0:
        return np.zeros(len(geoms), dtype=bool)
    pairs = tree.query(geoms, predicate="intersects")
    out = np.zeros(len(geoms), dtype=bool)
    out[pairs[0]] = True
    return out


def _seen_by(tree: shapely.STRtree, ids: np.ndarray, points: np.ndarray) -> list[list[int]]:
    seen: list[list[int]] = [[] for _ in range(len(points))]
    if len(points) and len(tree.geometries):
        for i, j in zip(*tree.query(points, predicate="intersects"), strict=True):
            seen[i].append(int(ids[j]))
    return seen


def _reasons(covered, offline_hit, sector_hit) -> np.ndarray:
    return np.where(
        covered,
        None,  # type: ignore[call-overload]  # numpy's stubs refuse None, np.where takes it
        np.where(offline_hit, "camera_offline", np.where(sector_hit, "occluded", "no_camera")),
    )


def evaluate_points(targets: pd.DataFrame, views: pd.DataFrame) -> pd.DataFrame:
    """Add covered / reason / seen_by to point targets."""
    online = views["online"].to_numpy(bool)
    points = shapely.points(targets["x"].to_numpy(float), targets["y"].to_numpy(float))
    on_tree = shapely.STRtree(views["visible"].to_numpy()[online])
    covered = _hits(on_tree, points)
    offline_hit = _hits(shapely.STRtree(views["visible"].to_numpy()[~online]), points)
    sector_hit = _hits(shapely.STRtree(views["sector"].to_numpy()[online]), points)
    out = targets.copy()
    out["covered"] = covered
    out["reason"] = _reasons(covered, offline_hit, sector_hit)
    out["seen_by"] = _seen_by(on_tree, views["id"].to_numpy()[online], points)
    out["geometry"] = points
    return out


def _share(areas: np.ndarray, cover: np.ndarray) -> np.ndarray:
    """Share of each polygon in `areas` covered by the union of `cover` polygons."""
    if len(areas) == 0:
        return np.zeros(0)
    tree = shapely.STRtree(cover)
    if len(cover) == 0:
        return np.zeros(len(areas))
    i, j = tree.query(areas, predicate="intersects")
    parts = shapely.intersection(areas[i], cover[j])
    union = group_union(i, parts, len(areas))
    seen = np.where(shapely.is_missing(union), 0.0, shapely.area(union))
    return np.clip(seen / np.maximum(shapely.area(areas), 1e-9), 0.0, 1.0)


def evaluate_courtyards(
    yards: pd.DataFrame, views: pd.DataFrame, points: pd.DataFrame, threshold: float
) -> pd.DataFrame:
    """Covered share of every courtyard's area, its entrances seen, and an area-gap reason."""
    online = views["online"].to_numpy(bool)
    polys = yards["geometry"].to_numpy()
    share = _share(polys, views["visible"].to_numpy()[online])
    offline_share = _share(polys, views["visible"].to_numpy()[~online])
    sector_share = _share(polys, views["sector"].to_numpy()[online])
    out = yards.copy()
    out["covered_share"] = share
    covered = share >= threshold
    out["covered"] = covered
    reason = _reasons(covered, offline_share >= threshold, sector_share >= threshold)
    out["reason"] = np.where((reason == "no_camera") & (share > 0), "too_little_seen", reason)
    gates = points[points["kind"] == "entrance"]
    seen = gates.groupby("courtyard_id")["covered"].sum()
    out["entrances_seen"] = out["id"].map(seen).fillna(0).astype(int)
    return out


def _area_rows(targets: pd.DataFrame, names: pd.DataFrame, cams: pd.DataFrame, level: str):
    key = "community_id" if level == "community" else "street_id"
    rows = []
    for area_id, group in targets.groupby(key):
        info = names.loc[area_id]
        in_area = cams[cams[key] == area_id]
        by_kind = {
            kind: {"total": len(g), "covered": int(g["covered"].sum())}
            for kind, g in group.groupby("kind")
        }
        rows.append(
            AreaCoverage(
                level=level,
                code=info["code"],
                name=info["name"],
                targets=len(group),
                covered=int(group["covered"].sum()),
                share=round(float(group["covered"].mean()), 4),
                by_kind=by_kind,
                cameras=len(in_area),
                cameras_online=int(in_area["online"].sum()),
            )
        )
    return rows


def _kind_figures(targets: pd.DataFrame) -> dict[str, Counted]:
    out: dict[str, Counted] = {}
    for kind in coverage_targets.TARGET_KINDS:
        group = targets[targets["kind"] == kind]
        total, hit = len(group), int(group["covered"].sum())
        share = round(hit / total, 4) if total else None
        out[kind] = Counted(total=total, covered=hit, share=share)
    return out


def _communities(session: Session) -> pd.DataFrame:
    rows = session.execute(
        text(
            "SELECT c.id, c.code, c.name, c.street_id, s.code AS street_code,"
            " s.name AS street_name FROM communities c JOIN streets s ON s.id = c.street_id"
        )
    ).mappings()
    return pd.DataFrame(list(rows)).set_index("id")


def _courtyard_targets(yards: pd.DataFrame) -> pd.DataFrame:
    points = shapely.point_on_surface(yards["geometry"].to_numpy())
    return pd.DataFrame(
        {
            "kind": "courtyard",
            "ref": yards["code"],
            "name": yards["name"],
            "x": shapely.get_x(points),
            "y": shapely.get_y(points),
            "community_id": yards["community_id"],
            "courtyard_id": yards["id"],
            "covered": yards["covered"],
            "reason": yards["reason"],
            "seen_by": [[] for _ in range(len(yards))],
            "geometry": yards["geometry"],
        }
    )


def coverage_report(
    *,
    session: Session,
    settings: AnalyticsSettings,
    srid: int,
    scope: Scope | None = None,
    actor: str = "system",
    role: str = "system",
) -> CoverageReport:
    """Evaluate every required target against the cached camera views (refreshed if stale)."""
    scope = scope or Scope(None, "district")
    coverage.refresh_views(session=session, srid=srid, actor=actor, role=role)
    views = coverage.views_metric(session=session, srid=srid)
    points = coverage_targets.point_targets(
        session=session,
        srid=srid,
        key_place_kinds=settings.key_place_kinds,
        snap_m=settings.intersection_snap_m,
    )
    yards = coverage_targets.courtyard_areas(session=session, srid=srid)
    cams = views[["id", "online", "community_id"]].copy()
    if scope.community_ids is not None:
        wanted = list(scope.community_ids)
        points = points[points["community_id"].isin(wanted)]
        yards = yards[yards["community_id"].isin(wanted)]
        cams = cams[cams["community_id"].isin(wanted)]
    points = evaluate_points(points.reset_index(drop=True), views)
    yards = evaluate_courtyards(
        yards.reset_index(drop=True), views, points, settings.courtyard_covered_share
    )
    communities = _communities(session)
    targets = pd.concat([points, _courtyard_targets(yards)], ignore_index=True)
    targets["street_id"] = targets["community_id"].map(communities["street_id"])
    cams["street_id"] = cams["community_id"].map(communities["street_id"])
    streets = communities.drop_duplicates("street_id").set_index("street_id")
    streets = streets.rename(columns={"street_code": "code_s", "street_name": "name_s"})
    streets = streets[["code_s", "name_s"]].rename(columns={"code_s": "code", "name_s": "name"})
    areas = _area_rows(targets, streets, cams, "street") + _area_rows(
        targets, communities, cams, "community"
    )
    summary = _summary(targets, yards, cams, settings, scope)
    return CoverageReport(
        summary=summary, areas=areas, courtyards=yards, targets=targets, views=views
    )


def _summary(targets, yards, cams, settings: AnalyticsSettings, scope: Scope) -> CoverageSummary:
    kinds = _kind_figures(targets)
    n_cams, n_on = len(cams), int(cams["online"].sum())
    online_share = round(n_on / n_cams, 4) if n_cams else None
    key_share = kinds["key_place"].share
    gaps = targets[~targets["covered"]]
    n_yards = len(yards)
    return CoverageSummary(
        scope=scope.label,
        cameras=Cameras(total=n_cams, online=n_on, online_share=online_share),
        targets=kinds,
        all_targets=Counted(
            total=len(targets),
            covered=int(targets["covered"].sum()),
            share=round(float(targets["covered"].mean()), 4) if len(targets) else None,
        ),
        courtyards=CourtyardFigures(
            count=n_yards,
            mean_covered_share=round(float(yards["covered_share"].mean()), 4) if n_yards else None,
            entrances=int(yards["entrances"].sum()) if n_yards else 0,
            entrances_seen=int(yards["entrances_seen"].sum()) if n_yards else 0,
        ),
        gaps=Gaps(
            total=len(gaps), by_reason={r: int((gaps["reason"] == r).sum()) for r in REASONS}
        ),
        national_targets=NationalTargets(
            key_public_places_covered=_national(settings.target_key_place_share, key_share),
            cameras_online=_national(settings.target_online_share, online_share),
        ),
    )


def _national(target: float, actual: float | None) -> NationalTarget:
    return NationalTarget(target=target, actual=actual, met=actual is not None and actual >= target)
