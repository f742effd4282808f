"""All table models in one import, so `Base.metadata` is complete (Alembic needs it)."""

from layers.tables.admin_areas import Community, District, Street
from layers.tables.api_keys import ApiKey
from layers.tables.audit import AuditEvent
from layers.tables.base import Base
from layers.tables.buildings import Building
from layers.tables.calendar_overrides import CalendarOverride
from layers.tables.cameras import Camera
from layers.tables.case_photos import CasePhoto
from layers.tables.case_ratings import CaseRating
from layers.tables.catalog import Category, Channel, TimeLimit
from layers.tables.courtyards import Courtyard
from layers.tables.derived_cache import CameraView, DerivedCache
from layers.tables.grid_cells import GridCell, GridRevision
from layers.tables.grid_drafts import GridDraftCell
from layers.tables.idempotency import IdempotencyKey
from layers.tables.incidents import Incident, IncidentEvent
from layers.tables.jobs import Job
from layers.tables.service_points import ServicePoint
from layers.tables.web_sessions import WebSession
from layers.tables.worker_positions import WorkerPosition
from layers.tables.workers import Worker

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
    "Building",
    "CalendarOverride",
    "Camera",
    "CameraView",
    "CasePhoto",
    "CaseRating",
    "Category",
    "Channel",
    "Community",
    "Courtyard",
    "DerivedCache",
    "District",
    "GridCell",
    "GridDraftCell",
    "GridRevision",
    "IdempotencyKey",
    "Incident",
    "IncidentEvent",
    "Job",
    "ServicePoint",
    "Street",
    "TimeLimit",
    "WebSession",
    "Worker",
    "WorkerPosition",
]
