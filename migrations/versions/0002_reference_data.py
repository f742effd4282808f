"""Reference data: the 17 intake channels, case categories and their time limits.

The data is frozen here (not imported from code) so this migration means the same
thing forever; districts then tune the tables themselves.

Revision ID: 0002
Revises: 0001
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

CHANNELS = [
    ("hotline_96966", "96966热线", "96966 hotline"),
    ("hotline_12345", "12345市长热线", "12345 mayor's hotline"),
    ("web_portal", "门户网站", "web portal"),
    ("resident_app", "居民APP", "resident app"),
    ("wechat", "微信", "WeChat"),
    ("handheld", "网格员手持终端", "grid-worker handheld"),
    ("courtyard_patrol", "院落巡查", "courtyard patrol"),
    ("video", "视频监控告警", "video network alarm"),
    ("station_walk_in", "社区服务站窗口", "community service station walk-in"),
    ("liaison_post", "院落连心驿站", "courtyard liaison post"),
    ("department", "部门转办", "department transfer"),
    ("street_centre", "街道中心", "street centre"),
    ("petition", "信访", "letters and visits"),
    ("mediation", "大调解", "mediation"),
    ("safety_inspection", "安全检查", "safety inspection"),
    ("media", "媒体曝光", "media"),
    ("other", "其他", "other"),
]

# (code, major name, name, English name, domain, default urgency, handle limit normal,
#  handle limit urgent) — a limit is (amount, clock).
CATEGORIES = [
    (
        "0101",
        "市容环境",
        "私搭乱建",
        "illegal structure",
        "city",
        "normal",
        (5, "working_days"),
        (1, "working_days"),
    ),
    (
        "0102",
        "市容环境",
        "暴露垃圾",
        "exposed garbage",
        "city",
        "normal",
        (1, "working_days"),
        (240, "working_hours"),
    ),
    (
        "0103",
        "市容环境",
        "积存垃圾渣土",
        "accumulated refuse",
        "city",
        "normal",
        (2, "working_days"),
        (1, "working_days"),
    ),
    (
        "0104",
        "市容环境",
        "道路不洁",
        "dirty road",
        "city",
        "normal",
        (1, "working_days"),
        (120, "working_hours"),
    ),
    (
        "0105",
        "市容环境",
        "水域不洁",
        "polluted water surface",
        "city",
        "normal",
        (2, "working_days"),
        (1, "working_days"),
    ),
    (
        "0106",
        "市容环境",
        "绿地脏乱",
        "untidy green space",
        "city",
        "normal",
        (2, "working_days"),
        (1, "working_days"),
    ),
    (
        "0201",
        "宣传广告",
        "违章张贴小广告",
        "illegal flyers",
        "city",
        "normal",
        (1, "working_days"),
        (240, "working_hours"),
    ),
    (
        "0202",
        "宣传广告",
        "涂写刻画",
        "graffiti",
        "city",
        "normal",
        (2, "working_days"),
        (1, "working_days"),
    ),
    (
        "0203",
        "宣传广告",
        "占道广告牌",
        "billboard on the road",
        "city",
        "normal",
        (2, "working_days"),
        (1, "working_days"),
    ),
    (
        "0301",
        "施工管理",
        "施工扰民",
        "construction noise",
        "city",
        "normal",
        (1, "working_days"),
        (120, "continuous"),
    ),
    (
        "0302",
        "施工管理",
        "施工占道",
        "construction on the road",
        "city",
        "normal",
        (2, "working_days"),
        (240, "continuous"),
    ),
    (
        "0303",
        "施工管理",
        "施工废弃料",
        "construction waste",
        "city",
        "normal",
        (2, "working_days"),
        (1, "working_days"),
    ),
    (
        "0401",
        "突发事件",
        "路面塌陷",
        "road collapse",
        "city",
        "urgent",
        (240, "continuous"),
        (120, "continuous"),
    ),
    (
        "0402",
        "突发事件",
        "自来水管破裂",
        "burst water main",
        "city",
        "urgent",
        (240, "continuous"),
        (120, "continuous"),
    ),
    (
        "0403",
        "突发事件",
        "燃气管道泄漏",
        "gas leak",
        "city",
        "urgent",
        (120, "continuous"),
        (60, "continuous"),
    ),
    (
        "0404",
        "突发事件",
        "井盖缺失",
        "missing manhole cover",
        "city",
        "urgent",
        (240, "continuous"),
        (120, "continuous"),
    ),
    (
        "0405",
        "突发事件",
        "道路积水",
        "flooded road",
        "city",
        "urgent",
        (240, "continuous"),
        (120, "continuous"),
    ),
    (
        "0501",
        "街面秩序",
        "无照经营游商",
        "unlicensed street vendor",
        "city",
        "normal",
        (1, "working_days"),
        (120, "working_hours"),
    ),
    (
        "0502",
        "街面秩序",
        "店外经营",
        "business outside the shop",
        "city",
        "normal",
        (1, "working_days"),
        (120, "working_hours"),
    ),
    (
        "0503",
        "街面秩序",
        "机动车乱停放",
        "illegal car parking",
        "city",
        "normal",
        (240, "working_hours"),
        (60, "continuous"),
    ),
    (
        "0504",
        "街面秩序",
        "非机动车乱停放",
        "illegal bicycle parking",
        "city",
        "normal",
        (1, "working_days"),
        (120, "working_hours"),
    ),
    (
        "0505",
        "街面秩序",
        "露天烧烤",
        "open-air barbecue",
        "city",
        "normal",
        (240, "working_hours"),
        (60, "continuous"),
    ),
    (
        "1001",
        "矛盾纠纷",
        "邻里纠纷",
        "neighbour dispute",
        "social",
        "normal",
        (3, "calendar_days"),
        (1, "calendar_days"),
    ),
    (
        "1002",
        "矛盾纠纷",
        "物业纠纷",
        "property-management dispute",
        "social",
        "normal",
        (7, "calendar_days"),
        (3, "calendar_days"),
    ),
    (
        "1003",
        "矛盾纠纷",
        "劳资纠纷",
        "wage dispute",
        "social",
        "normal",
        (7, "calendar_days"),
        (3, "calendar_days"),
    ),
    (
        "1004",
        "矛盾纠纷",
        "婚姻家庭纠纷",
        "family dispute",
        "social",
        "normal",
        (3, "calendar_days"),
        (1, "calendar_days"),
    ),
    (
        "1101",
        "治安隐患",
        "治安隐患",
        "public-security hazard",
        "social",
        "normal",
        (1, "calendar_days"),
        (120, "continuous"),
    ),
    (
        "1102",
        "治安隐患",
        "消防隐患",
        "fire hazard",
        "social",
        "urgent",
        (240, "continuous"),
        (60, "continuous"),
    ),
    (
        "1103",
        "治安隐患",
        "电动车违规充电",
        "e-bike charged indoors",
        "social",
        "normal",
        (1, "calendar_days"),
        (120, "continuous"),
    ),
    (
        "1201",
        "民生服务",
        "养老服务",
        "elderly care request",
        "social",
        "normal",
        (3, "working_days"),
        (1, "working_days"),
    ),
    (
        "1202",
        "民生服务",
        "帮扶救助",
        "hardship assistance",
        "social",
        "normal",
        (3, "working_days"),
        (1, "working_days"),
    ),
    (
        "1203",
        "民生服务",
        "就业服务",
        "employment service",
        "social",
        "normal",
        (5, "working_days"),
        (2, "working_days"),
    ),
    (
        "1301",
        "安全生产",
        "安全生产隐患",
        "workplace-safety hazard",
        "social",
        "normal",
        (1, "working_days"),
        (120, "continuous"),
    ),
    (
        "1302",
        "安全生产",
        "危房隐患",
        "dangerous building",
        "social",
        "urgent",
        (1, "calendar_days"),
        (240, "continuous"),
    ),
]

# Steps other than `handle` share limits across categories (minutes, continuous clock).
COMMON_LIMITS = {
    "accept": {"urgent": 10, "normal": 30},
    "dispatch": {"urgent": 30, "normal": 30},
    "sign": {"urgent": 60, "normal": 60},
    "check": {"urgent": 60, "normal": 60},
}


def upgrade() -> None:
    channels = sa.table("channels", sa.column("code"), sa.column("name"), sa.column("name_en"))
    op.bulk_insert(channels, [{"code": c, "name": n, "name_en": e} for c, n, e in CHANNELS])
    categories = sa.table(
        "categories",
        sa.column("code"),
        sa.column("major_code"),
        sa.column("major_name"),
        sa.column("name"),
        sa.column("name_en"),
        sa.column("domain"),
        sa.column("default_urgency"),
    )
    op.bulk_insert(
        categories,
        [
            {
                "code": code,
                "major_code": code[:2],
                "major_name": major,
                "name": name,
                "name_en": name_en,
                "domain": domain,
                "default_urgency": urgency,
            }
            for code, major, name, name_en, domain, urgency, _, _ in CATEGORIES
        ],
    )
    limits = sa.table(
        "time_limits",
        sa.column("category_code"),
        sa.column("urgency"),
        sa.column("step"),
        sa.column("amount"),
        sa.column("clock"),
    )
    rows = []
    for code, *_, normal, urgent in CATEGORIES:
        for urgency, handle in (("normal", normal), ("urgent", urgent)):
            for step, by_urgency in COMMON_LIMITS.items():
                rows.append(
                    {
                        "category_code": code,
                        "urgency": urgency,
                        "step": step,
                        "amount": by_urgency[urgency],
                        "clock": "continuous",
                    }
                )
            rows.append(
                {
                    "category_code": code,
                    "urgency": urgency,
                    "step": "handle",
                    "amount": handle[0],
                    "clock": handle[1],
                }
            )
    op.bulk_insert(limits, rows)


def downgrade() -> None:
    op.execute("DELETE FROM time_limits")
    op.execute("DELETE FROM categories")
    op.execute("DELETE FROM channels")
