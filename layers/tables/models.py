"""All table models in one import, so `Base.metadata` is complete (Alembic needs it)."""

from layers.tables.addresses import Address
from layers.tables.admin_areas import Community, District, Street
from layers.tables.api_keys import ApiKey
from layers.tables.audit import AuditEvent
from layers.tables.base import Base
from layers.tables.base_classes import BaseClass
from layers.tables.base_imports import BaseImport
from layers.tables.base_provenance import BaseProvenance
from layers.tables.buildings import Building
from layers.tables.calendar_overrides import CalendarOverride
from layers.tables.cameras import Camera
from layers.tables.catalog import Category, Channel, TimeLimit
from layers.tables.courtyards import Courtyard
from layers.tables.derived_cache import CameraView, DerivedCache
from layers.tables.dwellings import Dwelling
from layers.tables.grid_cells import GridCell, GridRevision
from layers.tables.grid_drafts import GridDraftCell
from layers.tables.idempotency import IdempotencyKey
from layers.tables.incidents import Incident, IncidentEvent
from layers.tables.jobs import Job
from layers.tables.person_links import PersonLink
from layers.tables.persons import Person
from layers.tables.road_aliases import RoadAlias
from layers.tables.service_points import ServicePoint
from layers.tables.sources import Source
from layers.tables.units import Unit
from layers.tables.web_sessions import WebSession
from layers.tables.workers import Worker

__all__ = [
    "Address",
    "ApiKey",
    "AuditEvent",
    "Base",
    "BaseClass",
    "BaseImport",
    "BaseProvenance",
    "Building",
    "CalendarOverride",
    "Camera",
    "CameraView",
    "Category",
    "Channel",
    "Community",
    "Courtyard",
    "DerivedCache",
    "District",
    "Dwelling",
    "GridCell",
    "GridDraftCell",
    "GridRevision",
    "IdempotencyKey",
    "Incident",
    "IncidentEvent",
    "Job",
    "Person",
    "PersonLink",
    "RoadAlias",
    "ServicePoint",
    "Source",
    "Street",
    "TimeLimit",
    "Unit",
    "WebSession",
    "Worker",
]
