"""All table models in one import, so `Base.metadata` is complete (Alembic needs it)."""

from layers.tables.addresses import Address
from layers.tables.admin_areas import Community, District, Street
from layers.tables.api_keys import ApiKey
from layers.tables.appointment_slots import AppointmentSlot
from layers.tables.appointments import Appointment
from layers.tables.audit import AuditEvent
from layers.tables.base import Base
from layers.tables.base_changes import BaseChange
from layers.tables.base_classes import BaseClass
from layers.tables.base_imports import BaseImport
from layers.tables.base_provenance import BaseProvenance
from layers.tables.buildings import Building
from layers.tables.calendar_overrides import CalendarOverride
from layers.tables.cameras import Camera
from layers.tables.case_photos import CasePhoto
from layers.tables.case_ratings import CaseRating
from layers.tables.case_transfers import CaseTransfer
from layers.tables.catalog import Category, Channel, TimeLimit
from layers.tables.courtyard_groups import CourtyardGroup
from layers.tables.courtyard_members import CourtyardMember
from layers.tables.courtyard_shifts import CourtyardShift
from layers.tables.courtyards import Courtyard
from layers.tables.departments import Department, DepartmentStaff
from layers.tables.derived_cache import CameraView, DerivedCache
from layers.tables.dwellings import Dwelling
from layers.tables.enterprise_offers import EnterpriseOffer
from layers.tables.grid_cells import GridCell, GridRevision
from layers.tables.grid_drafts import GridDraftCell
from layers.tables.household_visits import HouseholdVisit
from layers.tables.idempotency import IdempotencyKey
from layers.tables.incidents import Incident, IncidentEvent, IncidentKey
from layers.tables.jobs import Job
from layers.tables.joint_duty import JointTask, JointTaskMember, LiaisonShift
from layers.tables.layer_changes import LayerChange
from layers.tables.layer_versions import LayerVersion
from layers.tables.notices import Notice
from layers.tables.person_links import PersonLink
from layers.tables.persons import Person
from layers.tables.platform_units import PlatformStaff, PlatformUnit
from layers.tables.proxy_requests import ProxyEvent, ProxyRequest
from layers.tables.resident_documents import ResidentDocument
from layers.tables.road_aliases import RoadAlias
from layers.tables.service_items import ServiceItem
from layers.tables.service_offers import ServiceOffer
from layers.tables.service_outbox import OutboxMessage
from layers.tables.service_points import ServicePoint
from layers.tables.social_organisations import SocialOrganisation
from layers.tables.sources import Source
from layers.tables.units import Unit
from layers.tables.web_sessions import WebSession
from layers.tables.worker_positions import WorkerPosition
from layers.tables.workers import Worker

__all__ = [
    "Address",
    "ApiKey",
    "Appointment",
    "AppointmentSlot",
    "AuditEvent",
    "Base",
    "BaseChange",
    "BaseClass",
    "BaseImport",
    "BaseProvenance",
    "Building",
    "CalendarOverride",
    "Camera",
    "CameraView",
    "CasePhoto",
    "CaseRating",
    "CaseTransfer",
    "Category",
    "Channel",
    "Community",
    "Courtyard",
    "CourtyardGroup",
    "CourtyardMember",
    "CourtyardShift",
    "Department",
    "DepartmentStaff",
    "DerivedCache",
    "District",
    "Dwelling",
    "EnterpriseOffer",
    "GridCell",
    "GridDraftCell",
    "GridRevision",
    "HouseholdVisit",
    "IdempotencyKey",
    "Incident",
    "IncidentEvent",
    "IncidentKey",
    "Job",
    "JointTask",
    "JointTaskMember",
    "LayerChange",
    "LayerVersion",
    "LiaisonShift",
    "Notice",
    "OutboxMessage",
    "Person",
    "PersonLink",
    "PlatformStaff",
    "PlatformUnit",
    "ProxyEvent",
    "ProxyRequest",
    "ResidentDocument",
    "RoadAlias",
    "ServiceItem",
    "ServiceOffer",
    "ServicePoint",
    "SocialOrganisation",
    "Source",
    "Street",
    "TimeLimit",
    "Unit",
    "WebSession",
    "Worker",
    "WorkerPosition",
]
