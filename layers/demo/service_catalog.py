"""The demo's public service catalogue: 580 matters, 543 bookable online, 252 fully online.

The figures are the seed's (543 items bookable online, 252 handled fully online).
Names are built as a real catalogue reads: an object of a department's work
(城乡居民基本养老保险) and what is done with it (参保登记, 待遇申领, 信息变更…),
grouped by the department that owns it.  Everything is derived from the row's
index, so the catalogue is the same for every seed and scale and costs one
multi-row INSERT; the offers (which stations serve which item, with how many
staff) are one INSERT … SELECT over the district's service points.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from sqlalchemy import Connection, text

TOTAL_ITEMS = 580
BOOKABLE_ITEMS = 543
ONLINE_ITEMS = 252

# (group code, group name, department code, department, objects, actions)
GROUPS: tuple[tuple[str, str, str, str, tuple[str, ...], tuple[str, ...]], ...] = (
    (
        "SB",
        "社会保障",
        "rsj",
        "区人力资源和社会保障局",
        (
            "城乡居民基本养老保险",
            "城镇职工基本医疗保险",
            "失业保险金",
            "工伤保险",
            "生育保险",
            "社会保障卡",
            "灵活就业人员社保补贴",
            "就业困难人员认定",
            "创业担保贷款",
            "职业技能培训补贴",
        ),
        ("参保登记", "待遇申领", "信息变更", "转移接续", "暂停", "恢复", "证明开具", "补办"),
    ),
    (
        "MZ",
        "民政事务",
        "mzj",
        "区民政局",
        (
            "城乡居民最低生活保障",
            "特困人员救助供养",
            "临时救助",
            "高龄津贴",
            "婚姻登记预约",
            "殡葬补贴",
            "社会组织登记",
            "低收入家庭认定",
            "困境儿童保障",
            "慈善救助",
        ),
        ("申请", "复核", "变更", "终止", "证明开具", "政策咨询", "待遇发放查询"),
    ),
    (
        "HJ",
        "户籍管理",
        "gaj",
        "区公安分局",
        (
            "户口迁入",
            "户口迁出",
            "出生登记",
            "死亡注销",
            "居住证",
            "户籍证明",
            "身份证",
            "户口簿",
            "临时身份证",
        ),
        ("办理", "变更", "补领", "换领", "预约", "证明开具", "信息更正"),
    ),
    (
        "JS",
        "计划生育",
        "wjj",
        "区卫生健康局",
        (
            "生育登记",
            "独生子女父母光荣证",
            "计划生育家庭奖励扶助",
            "特别扶助金",
            "再生育审批",
            "婚育情况证明",
            "流动人口婚育证明",
            "育儿补贴",
        ),
        ("申请", "办理", "补办", "变更", "证明开具", "资格确认"),
    ),
    (
        "CL",
        "残疾人服务",
        "cl",
        "区残疾人联合会",
        (
            "残疾人证",
            "残疾人两项补贴",
            "辅助器具适配",
            "残疾人就业扶持",
            "残疾儿童康复救助",
            "重度残疾人托养补贴",
            "残疾人机动轮椅车燃油补贴",
            "盲人按摩资格",
        ),
        ("申领", "换领", "迁移", "注销", "资格认定", "补贴申请"),
    ),
    (
        "YL",
        "养老服务",
        "llb",
        "区民政局老龄办",
        (
            "居家养老服务补贴",
            "老年人优待证",
            "养老机构入住评估",
            "失能老人护理补贴",
            "老年助餐服务",
            "适老化改造补贴",
            "老年人意外伤害保险",
            "社区日间照料",
        ),
        ("申请", "办理", "补办", "评估预约", "资格复核", "服务变更"),
    ),
    (
        "ZF",
        "住房保障",
        "zjj",
        "区住房和城乡建设局",
        (
            "公共租赁住房",
            "住房租赁补贴",
            "经济适用住房",
            "棚户区改造安置",
            "老旧小区改造意见",
            "住房公积金提取",
            "房屋租赁登记备案",
            "物业服务纠纷调解",
        ),
        ("申请", "资格审核", "变更", "退出", "证明开具", "进度查询"),
    ),
    (
        "GS",
        "企业与个体工商",
        "scj",
        "区市场监督管理局",
        (
            "个体工商户营业执照",
            "小微企业设立",
            "食品经营许可",
            "营业执照年报",
            "企业名称预先核准",
            "个体工商户注销",
            "药品零售许可",
            "户外广告设置许可",
            "烟草零售许可",
        ),
        ("登记", "变更", "注销", "补照", "年度报告", "许可申请", "许可延续"),
    ),
    (
        "WH",
        "文化教育",
        "jyj",
        "区教育局",
        (
            "义务教育入学",
            "学生资助",
            "教师资格认定",
            "校外培训机构备案",
            "社区教育课程",
            "图书馆借阅证",
            "托育机构备案",
            "老年大学报名",
        ),
        ("报名", "申请", "变更", "证明开具", "资格确认"),
    ),
    (
        "NM",
        "退役军人与优抚",
        "tyj",
        "区退役军人事务局",
        (
            "退役军人优待证",
            "优抚对象抚恤",
            "军属光荣牌",
            "退役士兵安置",
            "伤残抚恤关系",
            "退役军人创业扶持",
            "烈士褒扬金",
        ),
        ("申领", "变更", "转移", "资格认定", "补办"),
    ),
    (
        "YW",
        "医疗卫生",
        "ybj",
        "区医疗保障局",
        (
            "门诊特殊疾病",
            "异地就医备案",
            "医疗费用报销",
            "家庭医生签约",
            "长期护理保险",
            "预防接种证",
        ),
        ("申请", "备案", "变更", "查询", "补办", "认定", "结算"),
    ),
)
MATERIAL_BY_GROUP: dict[str, tuple[str, ...]] = {
    "SB": ("id_card", "photo", "application_form"),
    "MZ": ("id_card", "household_register", "income_proof", "application_form"),
    "HJ": ("id_card", "household_register", "photo", "birth_certificate"),
    "JS": ("id_card", "marriage_certificate", "household_register"),
    "CL": ("id_card", "disability_certificate", "medical_record", "photo"),
    "YL": ("id_card", "household_register", "medical_record"),
    "ZF": ("id_card", "household_register", "income_proof", "property_certificate"),
    "GS": ("id_card", "business_licence", "application_form"),
    "WH": ("id_card", "household_register", "residence_permit"),
    "NM": ("id_card", "photo", "application_form"),
    "YW": ("id_card", "medical_record", "application_form"),
}


@dataclass(frozen=True)
class CatalogueItem:
    """One generated matter, as it is written to `service_items`."""

    code: str
    name: str
    group_code: str
    group_name: str
    department_code: str
    department: str
    handled_at: list[str]
    bookable: bool
    online: bool
    materials: list[str]
    time_limit_days: int
    fee_yuan: float


def _h(*parts: object) -> int:
    """A stable small hash (same on every machine and run)."""
    return int(hashlib.blake2s("|".join(map(str, parts)).encode(), digest_size=4).hexdigest(), 16)


def _names() -> list[tuple[int, str]]:
    """(group index, name) round-robin over the groups until `TOTAL_ITEMS` distinct names."""
    pools = [[o + a for o in g[4] for a in g[5]] for g in GROUPS]
    out: list[tuple[int, str]] = []
    i = 0
    if sum(map(len, pools)) < TOTAL_ITEMS:
        raise ValueError("the name pools are smaller than the catalogue")
    while len(out) < TOTAL_ITEMS:
        for g, pool in enumerate(pools):
            if i < len(pool) and len(out) < TOTAL_ITEMS:
                out.append((g, pool[i]))
        i += 1
    return out


def catalogue() -> list[CatalogueItem]:
    """The demo catalogue: every 8th-ish matter walk-in only, the first 252 bookable ones online."""
    items: list[CatalogueItem] = []
    counts: dict[str, int] = {}
    for n, (g, name) in enumerate(_names()):
        code, gname, dcode, dept = GROUPS[g][:4]
        counts[code] = counts.get(code, 0) + 1
        bookable = n * BOOKABLE_ITEMS // TOTAL_ITEMS != (n + 1) * BOOKABLE_ITEMS // TOTAL_ITEMS
        rank = sum(1 for it in items if it.bookable)
        online = bookable and rank * ONLINE_ITEMS // BOOKABLE_ITEMS != (
            (rank + 1) * ONLINE_ITEMS // BOOKABLE_ITEMS
        )
        pool = MATERIAL_BY_GROUP[code]
        materials = ["id_card", *[m for m in pool[1:] if _h(name, m) % 3 == 0]]
        where = ["community_station", "street_centre"]
        if _h(name, "hall") % 2 == 0:
            where.append("district_hall")
        if online:
            where.append("online")
        items.append(
            CatalogueItem(
                code=f"{code}{counts[code]:04d}",
                name=name,
                group_code=code,
                group_name=gname,
                department_code=dcode,
                department=dept,
                handled_at=where,
                bookable=bookable,
                online=online,
                materials=materials,
                time_limit_days=(1, 3, 5, 7, 10, 15, 20)[_h(name, "days") % 7],
                fee_yuan=0.0 if _h(name, "fee") % 10 else 10.0,
            )
        )
    return items


_OFFERS = """
INSERT INTO service_offers (service_point_id, item_id, staff)
SELECT sp.id, si.id, 1 + (hashtext(sp.code || '/' || si.code) & 1)
FROM service_points sp
JOIN service_items si ON 'community_station' = ANY(si.handled_at)
WHERE sp.kind = 'service_station'
   OR (sp.kind = 'appointment_point' AND si.online)
"""


def write_catalogue(conn: Connection) -> dict[str, int]:
    """Write the catalogue and the district's offers (catalogue replaced if present)."""
    conn.execute(text("DELETE FROM service_items"))
    rows = [item.__dict__ for item in catalogue()]
    conn.execute(
        text(
            "INSERT INTO service_items (code, name, group_code, group_name, department_code, "
            "department, handled_at, bookable, online, materials, time_limit_days, fee_yuan) "
            "VALUES (:code, :name, :group_code, :group_name, :department_code, :department, "
            ":handled_at, :bookable, :online, :materials, :time_limit_days, :fee_yuan)"
        ),
        rows,
    )
    offers = conn.execute(text(_OFFERS)).rowcount
    return {"service_items": len(rows), "service_offers": int(offers or 0)}
