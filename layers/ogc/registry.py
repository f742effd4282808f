"""Which tables are published as feature collections, with which fields, to whom.

The collection ids are a contract with GIS clients (QGIS projects store them), so
they are spelled out here once.  Each field says its JSON type, whether clients
may write it, and whether it is personal data (shown to dispatchers and admins
only).  `cameras` and `incidents` are staff-only: for anyone else they do not
exist at all (absent from lists, 404 everywhere).  The rows of `incidents` are
further narrowed by the case access rule (`layers.tables.case_scope`): a grid worker
reads their cells' cases here exactly as on `/incidents/{id}`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from layers.core.errors import NotFoundError
from layers.core.roles import SEES_PERSONAL_DATA, STAFF
from layers.ogc.collection_ids import COLLECTION_IDS
from layers.store.sql import quote_ident
from layers.tables.cameras import CAMERA_LEVELS
from layers.tables.service_points import SERVICE_POINT_KINDS


@dataclass(frozen=True)
class Field:
    """One published property: its column, JSON type and the rules for writing it."""

    name: str
    type: str  # string | integer | number | boolean | datetime
    title: str = ""
    writable: bool = False
    required: bool = False
    personal: bool = False
    max_length: int | None = None
    enum: tuple[str, ...] | None = None
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    pattern: str | None = None
    default: object = None

    @property
    def column(self) -> str:
        """The quoted column name (row alias `t`)."""
        return f"t.{quote_ident(self.name)}"


@dataclass(frozen=True)
class Collection:
    """A table (or a slice of one) published as a feature collection."""

    id: str
    title: str
    description: str
    table: str
    geometry_type: str
    fields: tuple[Field, ...]
    where: str = "TRUE"
    staff_only: bool = False
    editable: bool = False
    code_field: str | None = None
    temporal: tuple[str, str | None] | None = None
    live_only: bool = False
    extra_geometries: tuple[str, ...] = ()
    keywords: tuple[str, ...] = field(default_factory=tuple)
    case_rows: bool = False
    """Rows are cases: each reader sees only those the case access rule gives them."""
    min_zoom: int = 0
    """Lowest tile zoom with features: below it a tile would hold the whole layer, unreadably
    small and far too large to send, so it is empty (TileJSON `minzoom` tells clients)."""

    def visible_fields(self, role: str) -> tuple[Field, ...]:
        """The fields `role` may read (personal data only for dispatchers and admins)."""
        if role in SEES_PERSONAL_DATA:
            return self.fields
        return tuple(f for f in self.fields if not f.personal)

    def tile_fields(self, role: str) -> tuple[Field, ...]:
        """The fields drawn into vector tiles: never personal data (tiles are cached pictures)."""
        return tuple(f for f in self.visible_fields(role) if not f.personal)

    def field(self, name: str, role: str) -> Field | None:
        """The readable field called `name`, or None."""
        return next((f for f in self.visible_fields(role) if f.name == name), None)


def _s(name: str, title: str = "", **kw: Any) -> Field:
    return Field(name, "string", title, **kw)


def _i(name: str, title: str = "", **kw: Any) -> Field:
    return Field(name, "integer", title, **kw)


def _n(name: str, title: str = "", **kw: Any) -> Field:
    return Field(name, "number", title, **kw)


def _b(name: str, title: str = "", **kw: Any) -> Field:
    return Field(name, "boolean", title, **kw)


def _t(name: str, title: str = "", **kw: Any) -> Field:
    return Field(name, "datetime", title, **kw)


_VERSIONED = (_i("version", "edit version (the ETag)"), _t("updated_at", "last change"))
_COUNT = {"minimum": 0, "default": 0}
_NO = {"default": False}
_W = {"writable": True}
_POS = {"minimum": 0, "exclusive_minimum": True}
_AZ = {"minimum": 0, "maximum": 360, "exclusive_maximum": True}


_GRID_MIN_ZOOM = {1: 11, 2: 12, 3: 13}
"""A level-1 cell (~250 m) is a few pixels wide at z11, a level-3 cell (~80 m) at z13."""


def _grid(level: int) -> Collection:
    names = {1: "一级网格", 2: "二级网格", 3: "三级网格"}
    return Collection(
        id=f"grid_cells_l{level}",
        title=f"Level-{level} grid cells ({names[level]})",
        description=(
            f"Level-{level} cells of the live grid revision; `datetime` selects the cells "
            "valid at an instant or during an interval of the boundary history."
        ),
        table="grid_cells",
        geometry_type="MultiPolygon",
        fields=(
            _s("code", "grid code"),
            _s("name", "name"),
            _i("level", "grid level"),
            _i("parent_id", "parent cell id"),
            _i("community_id", "community id"),
            _i("revision_id", "boundary revision"),
            _t("valid_from", "valid from"),
            _t("valid_to", "valid until (null = live)"),
            _i("households", "households"),
            _i("population", "population"),
        ),
        where=f"t.level = {level}",
        temporal=("valid_from", "valid_to"),
        live_only=True,
        keywords=("grid", "网格"),
        min_zoom=_GRID_MIN_ZOOM[level],
    )


_COLLECTIONS: tuple[Collection, ...] = (
    Collection(
        id="streets",
        title="Streets (街道)",
        description="The district's streets (sub-district offices) with their boundaries.",
        table="streets",
        geometry_type="MultiPolygon",
        fields=(_s("code", "street code"), _s("name", "name"), _i("district_id", "district id")),
    ),
    Collection(
        id="communities",
        title="Communities (社区)",
        description="Communities, each with a comprehensive service station.",
        table="communities",
        geometry_type="MultiPolygon",
        fields=(_s("code", "community code"), _s("name", "name"), _i("street_id", "street id")),
        min_zoom=9,
    ),
    _grid(1),
    _grid(2),
    _grid(3),
    Collection(
        id="courtyards",
        title="Courtyards (院落)",
        description="Residential compounds; `is_three_nos` marks the 三无院落.",
        table="courtyards",
        geometry_type="MultiPolygon",
        fields=(
            _s("code", "courtyard code", required=True, max_length=20, **_W),
            _s("name", "name", required=True, **_W),
            _i("community_id", "community id (derived from the geometry when omitted)", **_W),
            _i("households", "households", **_COUNT, **_W),
            _i("residents", "residents", **_COUNT, **_W),
            _b("has_gatekeeper", "has a gatekeeper", **_NO, **_W),
            _b("has_property_management", "has property management", **_NO, **_W),
            _b("has_owners_committee", "has an owners' committee", **_NO, **_W),
            _b("is_three_nos", "三无院落 (derived)"),
            *_VERSIONED,
        ),
        editable=True,
        code_field="code",
        extra_geometries=("entrances",),
        min_zoom=13,
    ),
    Collection(
        id="buildings",
        title="Buildings",
        description="Building footprints with floors, height, households and population.",
        table="buildings",
        geometry_type="Polygon",
        fields=(
            _s("code", "building code", required=True, max_length=20, **_W),
            _s("name", "name", **_W),
            _i("courtyard_id", "courtyard id", **_W),
            _i("community_id", "community id (derived from the geometry when omitted)", **_W),
            _i("floors", "floors", **_POS, **_W),
            _n("height_m", "height (m)", **_POS, **_W),
            _i("households", "households", **_COUNT, **_W),
            _i("population", "population", **_COUNT, **_W),
            *_VERSIONED,
        ),
        editable=True,
        code_field="code",
        min_zoom=14,
    ),
    Collection(
        id="service_points",
        title="Service points",
        description="Service stations, liaison posts, clinics, police, schools and more.",
        table="service_points",
        geometry_type="Point",
        fields=(
            _s("code", "code", required=True, max_length=24, **_W),
            _s("kind", "kind", required=True, enum=SERVICE_POINT_KINDS, **_W),
            _s("name", "name", required=True, **_W),
            _s("address", "address", **_W),
            _s("opening_hours", "opening hours (OSM syntax)", **_W),
            _s("phone", "public phone", max_length=32, **_W),
            _i("community_id", "community id (derived from the geometry when omitted)", **_W),
            *_VERSIONED,
        ),
        editable=True,
        code_field="code",
        min_zoom=12,
    ),
    Collection(
        id="cameras",
        title="Cameras (staff only)",
        description="Cameras of the four-level video network.",
        table="cameras",
        geometry_type="Point",
        fields=(
            _s("device_id", "GB/T 28181 id", required=True, pattern=r"^[0-9]{20}$", **_W),
            _s("name", "name", required=True, **_W),
            _s("level", "network level", required=True, enum=CAMERA_LEVELS, **_W),
            _n("mount_height_m", "mounting height (m)", required=True, **_POS, maximum=100, **_W),
            _n("azimuth_deg", "azimuth (degrees)", required=True, **_AZ, **_W),
            _n(
                "hfov_deg",
                "horizontal field of view (degrees)",
                required=True,
                **_POS,
                maximum=360,
                **_W,
            ),
            _n("range_m", "useful range (m)", required=True, **_POS, maximum=1000, **_W),
            _b("online", "online", default=True, **_W),
            _i("community_id", "community id (derived from the geometry when omitted)", **_W),
            _i("courtyard_id", "courtyard id", **_W),
            *_VERSIONED,
        ),
        staff_only=True,
        editable=True,
        code_field="device_id",
        min_zoom=13,
    ),
    Collection(
        id="incidents",
        title="Cases (staff only)",
        description=(
            "Reported cases with status, category, channel and the cells they were filed "
            "under: all cases for dispatchers, admins and planners, a grid worker's cells and "
            "assignments for a grid worker; reporter name and phone for dispatchers and admins "
            "only (never in tiles)."
        ),
        table="incidents",
        geometry_type="Point",
        fields=(
            _s("category_code", "category"),
            _s("channel_code", "intake channel"),
            _s("status", "status"),
            _s("urgency", "urgency"),
            _s("description", "description"),
            _s("address", "address"),
            _s("reporter_name", "reporter name", personal=True),
            _s("reporter_phone", "reporter phone", personal=True),
            _i("revision_id", "grid revision"),
            _i("l1_cell_id", "level-1 cell"),
            _i("l2_cell_id", "level-2 cell"),
            _i("l3_cell_id", "level-3 cell"),
            _i("community_id", "community"),
            _i("street_id", "street"),
            _s("locate_method", "how the cell was found"),
            _i("assignee_worker_id", "assigned worker"),
            _s("handling_level", "handling level"),
            _i("escalation_count", "escalations"),
            _t("created_at", "reported at"),
            _t("due_at", "due at"),
            _t("closed_at", "closed at"),
            _t("updated_at", "last change"),
        ),
        staff_only=True,
        temporal=("created_at", None),
        keywords=("cases", "事件"),
        case_rows=True,
        min_zoom=14,
    ),
    Collection(
        id="addresses",
        title="Standard addresses (标准地址)",
        description=(
            "Entrances of buildings and their 单元 with the normalised address; the grid cell "
            "of an address is asked of the locate rule (`/locate`, `/geocode`), not stored."
        ),
        table="addresses",
        geometry_type="Point",
        fields=(
            _s("full_text", "standard address"),
            _s("road", "road"),
            _i("number", "house number (号)"),
            _i("building_no", "building (栋)"),
            _i("unit_no", "unit (单元)"),
            _i("building_id", "building id"),
            _i("courtyard_id", "courtyard id"),
        ),
        keywords=("addresses", "标准地址", "一标三实"),
        min_zoom=15,
    ),
    Collection(
        id="units",
        title="Units and places (实有单位)",
        description=(
            "Companies, shops, schools, clinics, … with their class and licence number; the "
            "contact person and phone for dispatchers and admins only."
        ),
        table="units",
        geometry_type="Point",
        fields=(
            _s("name", "name"),
            _s("class", "class"),
            _s("licence_no", "licence number"),
            _b("is_key_place", "key place for safety"),
            _i("address_id", "standard address id"),
            _s("contact_name", "contact person", personal=True),
            _s("contact_phone", "contact phone", personal=True),
        ),
        keywords=("units", "实有单位", "一标三实"),
        min_zoom=14,
    ),
)

if tuple(c.id for c in _COLLECTIONS) != COLLECTION_IDS:
    raise RuntimeError("layers.ogc.collection_ids must list the registry's ids, in its order")
_BY_ID = {c.id: c for c in _COLLECTIONS}


def is_staff(role: str) -> bool:
    """Staff roles see the sensitive collections."""
    return role in STAFF


def visible_collections(role: str) -> Iterable[Collection]:
    """The collections `role` may know about, in the contract's order."""
    return (c for c in _COLLECTIONS if is_staff(role) or not c.staff_only)


def get_collection(collection_id: str, role: str) -> Collection:
    """The collection, or NotFoundError when it does not exist or is hidden from `role`."""
    found = _BY_ID.get(collection_id)
    if found is None or (found.staff_only and not is_staff(role)):
        raise NotFoundError(f"no collection {collection_id!r}", code="unknown_collection")
    return found


def needs_primary(collection_id: str, role: str, *, one_feature: bool = False) -> bool:
    """True when a read must go to the primary, not to a replica.

    A read that shows personal fields is audited in the same transaction (a
    write, which a standby refuses); one feature of an editable collection
    carries the ETag a client's If-Match is checked against, so it must be the
    current version, not a replica's.  Unknown collections answer on the
    primary too (with their usual 404).
    """
    found = _BY_ID.get(collection_id)
    if found is None:
        return True
    if any(f.personal for f in found.visible_fields(role)):
        return True
    return one_feature and found.editable
