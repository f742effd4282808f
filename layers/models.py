"""All table models in one import, so `Base.metadata` is complete (Alembic needs it)."""

from layers.admin_areas import Community, District, Street
from layers.api_keys import ApiKey
from layers.audit import AuditEvent
from layers.base import Base
from layers.buildings import Building
from layers.calendar_overrides import CalendarOverride
from layers.cameras import Camera
from layers.catalog import Category, Channel, TimeLimit
from layers.courtyards import Courtyard
from layers.derived import CameraView, DerivedCache
from layers.grid_cells import GridCell, GridRevision
from layers.grid_drafts import GridDraftCell
from layers.idempotency import IdempotencyKey
from layers.incidents import Incident, IncidentEvent
from layers.jobs import Job
from layers.service_points import ServicePoint
from layers.web_sessions import WebSession
from layers.workers import Worker

__all__ = [
    "ApiKey",
    "AuditEvent",
    "Base",
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
]
