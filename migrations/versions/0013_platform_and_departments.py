"""The three-level platform and the departments: unit queues, notices, transfers, joint duty.

Adds the platform units (district centre, street sub-centres, community stations)
derived from the loaded areas, their staff, `incidents.unit_id` (backfilled from each
case's handling level and area, and set on every new case by a trigger, so a case
always sits in exactly one queue), `incidents.supervised_at` (督办), the notices
outbox, the departments (seeded: the safety platform's and the base-data ones) with
their staff, the case transfers, the liaison rota and joint tasks, and the key role
``department``.

Revision ID: 0013
Revises: 0012
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | Sequence[str] | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

ROLES_BEFORE = "'resident', 'grid_worker', 'dispatcher', 'planner', 'admin'"
STAFF_BEFORE = "'grid_worker', 'dispatcher', 'planner', 'admin'"

# (code, name, kind, categories it answers for, handle days); frozen here, not imported.
SAFETY = [
    ("zfw", "区委政法委（综治中心）", ["1101"], 5),
    ("gaj", "公安分局", ["1101", "0503"], 3),
    ("cgj", "城管局", ["01", "02", "0302", "0303", "0501", "0502", "0504", "0505"], 3),
    ("scjgj", "市场监管局", ["0501"], 5),
    ("zjj", "住建局", ["0301", "0302", "0303", "1302"], 5),
    ("wjj", "卫健局", [], 5),
    ("mzj", "民政局", ["1201", "1202"], 5),
    ("sfj", "司法局", ["1001", "1004"], 5),
    ("xfj", "信访局", [], 5),
    ("yjj", "应急局", ["1301", "0401"], 2),
    ("sthjj", "生态环境局", ["0105", "0505"], 5),
    ("jtysj", "交通运输局", ["0401", "0503"], 3),
    ("swj", "水务局", ["0402", "0405", "0105"], 2),
    ("xfjydd", "消防救援大队", ["1102", "1103"], 2),
    ("rsj", "人社局", ["1003", "1203"], 5),
    ("wwb", "维稳办", [], 3),
    ("dtjzx", "大调解中心", ["1001", "1002", "1003", "1004"], 5),
    ("fy", "区人民法院", [], 10),
    ("jcy", "区人民检察院", [], 10),
    ("zgh", "区总工会", ["1003"], 5),
    ("tqw", "团区委", [], 5),
    ("fl", "区妇联", ["1004"], 5),
    ("cl", "区残联", ["1202"], 5),
    ("jyj", "教育局", [], 5),
    ("wlj", "文旅局", [], 5),
    ("swuj", "商务局", ["0502"], 5),
    ("fgj", "房管局", ["1002"], 5),
    ("gyj", "公园城市建设局", ["0106"], 5),
    ("jxj", "经信局", [], 5),
    ("tyjrj", "退役军人事务局", [], 5),
    ("wxb", "区委网信办", [], 3),
    ("rqgs", "燃气安全监管办", ["0403"], 1),
    ("gdj", "供电服务中心", [], 2),
]
BASE_DATA = [
    ("tjj", "统计局"),
    ("zrzyj", "自然资源和规划局"),
    ("cz", "财政局"),
    ("sj", "审计局"),
    ("gzj", "国资局"),
    ("jgswj", "机关事务局"),
    ("nyncj", "农业农村局"),
    ("kjj", "科技局"),
    ("tcj", "投资促进局"),
    ("ybj", "医保局"),
    ("swju", "税务局"),
    ("qxj", "气象局"),
    ("fzj", "防震减灾局"),
    ("rfb", "人防办"),
    ("sjj", "数据局"),
    ("mzzj", "民宗局"),
    ("qb", "侨务办"),
    ("hsh", "区红十字会"),
    ("kx", "区科协"),
    ("gsl", "区工商联"),
    ("dag", "档案馆"),
    ("ycj", "烟草专卖局"),
    ("gxs", "供销社"),
    ("tyj", "体育局"),
    ("fgw", "发改局"),
]

PLACE_FN = """
CREATE FUNCTION incidents_place_in_unit() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.unit_id IS NULL THEN
    NEW.unit_id := coalesce(
      CASE WHEN NEW.handling_level IN ('grid', 'community')
           THEN (SELECT u.id FROM platform_units u WHERE u.community_id = NEW.community_id) END,
      CASE WHEN NEW.handling_level IN ('grid', 'community', 'street')
           THEN (SELECT u.id FROM platform_units u WHERE u.street_id = NEW.street_id) END,
      (SELECT min(u.id) FROM platform_units u WHERE u.level = 'district'));
  END IF;
  RETURN NEW;
END $$
"""
BUILD_UNITS = (
    "INSERT INTO platform_units (code, name, level, parent_id, phone) "
    "SELECT 'D' || d.code, d.name || '服务治理大联动中心', 'district', NULL, '028-12345' "
    "FROM districts d ORDER BY d.id LIMIT 1",
    "INSERT INTO platform_units (code, name, level, parent_id, street_id) "
    "SELECT 'S' || s.code, s.name || '大联动分中心', 'street', "
    "(SELECT min(id) FROM platform_units WHERE level = 'district'), s.id "
    "FROM streets s ORDER BY s.id",
    "INSERT INTO platform_units (code, name, level, parent_id, community_id) "
    "SELECT 'C' || c.code, c.name || '综合服务管理站', 'community', u.id, c.id "
    "FROM communities c JOIN platform_units u ON u.street_id = c.street_id ORDER BY c.id",
    "UPDATE incidents i SET unit_id = coalesce("
    " CASE WHEN i.handling_level IN ('grid', 'community')"
    "  THEN (SELECT u.id FROM platform_units u WHERE u.community_id = i.community_id) END,"
    " CASE WHEN i.handling_level IN ('grid', 'community', 'street')"
    "  THEN (SELECT u.id FROM platform_units u WHERE u.street_id = i.street_id) END,"
    " (SELECT min(u.id) FROM platform_units u WHERE u.level = 'district'))",
)


def _fk(table: str, column: str, target: str, ondelete: str | None = None):
    return sa.ForeignKeyConstraint(
        [column],
        [f"{target}.id"],
        name=op.f(f"fk_{table}_{column}_{target}"),
        ondelete=ondelete,
    )


def _roles(roles: str, staff: str) -> None:
    op.drop_constraint(op.f("ck_api_keys_role"), "api_keys", type_="check")
    op.create_check_constraint(op.f("ck_api_keys_role"), "api_keys", f"role IN ({roles})")
    op.drop_constraint(op.f("ck_web_sessions_role"), "web_sessions", type_="check")
    op.create_check_constraint(op.f("ck_web_sessions_role"), "web_sessions", f"role IN ({staff})")


def _units() -> None:
    op.create_table(
        "platform_units",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("parent_id", sa.Integer(), nullable=True),
        sa.Column("street_id", sa.Integer(), nullable=True),
        sa.Column("community_id", sa.Integer(), nullable=True),
        sa.Column("opens_at", sa.Time(), server_default="08:30", nullable=False),
        sa.Column("closes_at", sa.Time(), server_default="17:30", nullable=False),
        sa.Column("phone", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "level IN ('community', 'street', 'district')", name=op.f("ck_platform_units_level")
        ),
        sa.CheckConstraint(
            "(level = 'district') = (parent_id IS NULL)", name=op.f("ck_platform_units_parent")
        ),
        sa.CheckConstraint("opens_at < closes_at", name=op.f("ck_platform_units_hours")),
        _fk("platform_units", "parent_id", "platform_units"),
        _fk("platform_units", "street_id", "streets"),
        _fk("platform_units", "community_id", "communities"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_units")),
        sa.UniqueConstraint("code", name=op.f("uq_platform_units_code")),
        sa.UniqueConstraint("street_id", name=op.f("uq_platform_units_street_id")),
        sa.UniqueConstraint("community_id", name=op.f("uq_platform_units_community_id")),
    )
    op.create_index("ix_platform_units_parent_id", "platform_units", ["parent_id"])
    op.create_table(
        "platform_staff",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("worker_id", sa.Integer(), nullable=True),
        sa.Column("duty", sa.Text(), nullable=False),
        sa.CheckConstraint(
            "duty IN ('dispatcher', 'handler')", name=op.f("ck_platform_staff_duty")
        ),
        sa.CheckConstraint(
            "(key_id IS NULL) <> (worker_id IS NULL)", name=op.f("ck_platform_staff_who")
        ),
        _fk("platform_staff", "unit_id", "platform_units", "CASCADE"),
        _fk("platform_staff", "key_id", "api_keys", "CASCADE"),
        _fk("platform_staff", "worker_id", "workers", "CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_staff")),
        sa.UniqueConstraint("key_id", name=op.f("uq_platform_staff_key_id")),
        sa.UniqueConstraint("worker_id", name=op.f("uq_platform_staff_worker_id")),
    )
    op.create_index("ix_platform_staff_unit_id", "platform_staff", ["unit_id"])
    op.add_column("incidents", sa.Column("unit_id", sa.Integer(), nullable=True))
    op.add_column(
        "incidents", sa.Column("supervised_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_foreign_key(
        op.f("fk_incidents_unit_id_platform_units"),
        "incidents",
        "platform_units",
        ["unit_id"],
        ["id"],
    )
    op.create_index(op.f("ix_incidents_unit_id"), "incidents", ["unit_id"])
    for sql in BUILD_UNITS:
        op.execute(sql)
    op.execute(PLACE_FN)
    op.execute(
        "CREATE TRIGGER incidents_place_in_unit BEFORE INSERT ON incidents "
        "FOR EACH ROW EXECUTE FUNCTION incidents_place_in_unit()"
    )


def _departments() -> None:
    op.create_table(
        "departments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("code", sa.Text(), nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column(
            "categories",
            postgresql.ARRAY(sa.Text()),
            server_default=sa.text("'{}'::text[]"),
            nullable=False,
        ),
        sa.Column("contact_name", sa.Text(), nullable=True),
        sa.Column("contact_phone", sa.Text(), nullable=True),
        sa.Column("sign_days", sa.Numeric(), server_default="1", nullable=False),
        sa.Column("handle_days", sa.Numeric(), server_default="5", nullable=False),
        sa.CheckConstraint("kind IN ('safety', 'base_data')", name=op.f("ck_departments_kind")),
        sa.CheckConstraint("sign_days > 0 AND handle_days > 0", name=op.f("ck_departments_limits")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_departments")),
        sa.UniqueConstraint("code", name=op.f("uq_departments_code")),
        sa.UniqueConstraint("name", name=op.f("uq_departments_name")),
    )
    table = sa.table(
        "departments",
        sa.column("code"),
        sa.column("name"),
        sa.column("kind"),
        sa.column("categories", postgresql.ARRAY(sa.Text())),
        sa.column("contact_name"),
        sa.column("contact_phone"),
        sa.column("handle_days"),
    )
    rows = [
        {
            "code": code,
            "name": name,
            "kind": "safety",
            "categories": cats,
            "contact_name": f"{name}联络员",
            "contact_phone": f"028-8{n:03d}0000",
            "handle_days": days,
        }
        for n, (code, name, cats, days) in enumerate(SAFETY)
    ]
    rows += [
        {
            "code": code,
            "name": name,
            "kind": "base_data",
            "categories": [],
            "contact_name": f"{name}数据专员",
            "contact_phone": f"028-8{n + 100:03d}0000",
            "handle_days": 5,
        }
        for n, (code, name) in enumerate(BASE_DATA)
    ]
    op.bulk_insert(table, rows)
    op.create_table(
        "department_staff",
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        _fk("department_staff", "key_id", "api_keys", "CASCADE"),
        _fk("department_staff", "department_id", "departments", "CASCADE"),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_department_staff")),
    )
    op.create_index(
        op.f("ix_department_staff_department_id"), "department_staff", ["department_id"]
    )


def _notices() -> None:
    op.create_table(
        "platform_notices",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("department_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.Text(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("data", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "kind IN ('escalated', 'informed', 'handed_down', 'supervised', 'transferred', "
            "'returned', 'finished', 'joint_task')",
            name=op.f("ck_platform_notices_kind"),
        ),
        sa.CheckConstraint(
            "(unit_id IS NULL) <> (department_id IS NULL)",
            name=op.f("ck_platform_notices_to_whom"),
        ),
        _fk("platform_notices", "incident_id", "incidents", "CASCADE"),
        _fk("platform_notices", "unit_id", "platform_units"),
        _fk("platform_notices", "department_id", "departments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_platform_notices")),
    )
    op.create_index("ix_platform_notices_unit_at", "platform_notices", ["unit_id", "at"])
    op.create_index(
        "ix_platform_notices_department_at", "platform_notices", ["department_id", "at"]
    )
    op.create_index("ix_platform_notices_incident_id", "platform_notices", ["incident_id"])


def _transfers() -> None:
    open_sql = "status IN ('sent', 'signed', 'in_progress')"
    op.create_table(
        "case_transfers",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("part", sa.Text(), nullable=False),
        sa.Column("status", sa.Text(), server_default="sent", nullable=False),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("from_unit_id", sa.Integer(), nullable=True),
        sa.Column("sent_by", sa.Text(), nullable=False),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sign_due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("due_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("on_time", sa.Boolean(), nullable=True),
        sa.Column("overdue_noticed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("version", sa.Integer(), server_default="1", nullable=False),
        sa.CheckConstraint("part IN ('lead', 'support')", name=op.f("ck_case_transfers_part")),
        sa.CheckConstraint(
            "status IN ('sent', 'signed', 'in_progress', 'returned', 'finished', 'withdrawn')",
            name=op.f("ck_case_transfers_status"),
        ),
        _fk("case_transfers", "incident_id", "incidents", "CASCADE"),
        _fk("case_transfers", "department_id", "departments"),
        _fk("case_transfers", "from_unit_id", "platform_units"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_transfers")),
    )
    op.create_index(
        "uq_case_transfers_open_department",
        "case_transfers",
        ["incident_id", "department_id"],
        unique=True,
        postgresql_where=sa.text(open_sql),
    )
    op.create_index(
        "uq_case_transfers_open_lead",
        "case_transfers",
        ["incident_id"],
        unique=True,
        postgresql_where=sa.text(f"part = 'lead' AND {open_sql}"),
    )
    op.create_index(
        "ix_case_transfers_department_status_due",
        "case_transfers",
        ["department_id", "status", "due_at"],
    )
    op.create_index("ix_case_transfers_incident_id", "case_transfers", ["incident_id"])
    op.create_index(
        "ix_case_transfers_open_due",
        "case_transfers",
        ["due_at"],
        postgresql_where=sa.text(f"{open_sql} AND overdue_noticed_at IS NULL"),
    )


def _joint_duty() -> None:
    op.create_table(
        "liaison_shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("department_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("liaison_name", sa.Text(), nullable=False),
        sa.Column("liaison_phone", sa.Text(), nullable=True),
        _fk("liaison_shifts", "unit_id", "platform_units"),
        _fk("liaison_shifts", "department_id", "departments"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_liaison_shifts")),
        sa.UniqueConstraint(
            "unit_id", "department_id", "day", name="uq_liaison_shifts_unit_dept_day"
        ),
    )
    op.create_index("ix_liaison_shifts_day_unit", "liaison_shifts", ["day", "unit_id"])
    op.create_table(
        "joint_tasks",
        sa.Column("id", sa.BigInteger(), nullable=False),
        sa.Column("incident_id", sa.BigInteger(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("instruction", sa.Text(), nullable=False),
        sa.Column("created_by", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        _fk("joint_tasks", "incident_id", "incidents", "CASCADE"),
        _fk("joint_tasks", "unit_id", "platform_units"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_joint_tasks")),
    )
    op.create_index(op.f("ix_joint_tasks_incident_id"), "joint_tasks", ["incident_id"])
    op.create_table(
        "joint_task_members",
        sa.Column("task_id", sa.BigInteger(), nullable=False),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        _fk("joint_task_members", "task_id", "joint_tasks", "CASCADE"),
        _fk("joint_task_members", "shift_id", "liaison_shifts"),
        sa.PrimaryKeyConstraint("task_id", "shift_id", name=op.f("pk_joint_task_members")),
    )


def upgrade() -> None:
    _roles(ROLES_BEFORE + ", 'department'", STAFF_BEFORE + ", 'department'")
    _units()
    _departments()
    _notices()
    _transfers()
    _joint_duty()


def downgrade() -> None:
    op.execute("DELETE FROM web_sessions WHERE role = 'department'")
    op.execute("DELETE FROM api_keys WHERE role = 'department'")
    for table in (
        "joint_task_members",
        "joint_tasks",
        "liaison_shifts",
        "case_transfers",
        "platform_notices",
        "department_staff",
        "departments",
    ):
        op.drop_table(table)
    op.execute("DROP TRIGGER incidents_place_in_unit ON incidents")
    op.execute("DROP FUNCTION incidents_place_in_unit()")
    op.drop_index(op.f("ix_incidents_unit_id"), table_name="incidents")
    op.drop_constraint(op.f("fk_incidents_unit_id_platform_units"), "incidents", type_="foreignkey")
    op.drop_column("incidents", "supervised_at")
    op.drop_column("incidents", "unit_id")
    op.drop_table("platform_staff")
    op.drop_table("platform_units")
    _roles(ROLES_BEFORE, STAFF_BEFORE)
