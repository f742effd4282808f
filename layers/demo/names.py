"""Names for the demo district: Chenghua's real 2017 streets, plausible everything else."""

from __future__ import annotations

import numpy as np

STREETS: tuple[tuple[str, float, float], ...] = (
    # The 14 streets of Chenghua in 2017, with a rough WGS-84 anchor each; the
    # generated street of a name grows from its anchor, so the demo map reads right.
    ("猛追湾街道", 104.088, 30.658),
    ("双桥子街道", 104.110, 30.646),
    ("府青路街道", 104.090, 30.681),
    ("驷马桥街道", 104.088, 30.705),
    ("建设路街道", 104.108, 30.672),
    ("万年场街道", 104.127, 30.652),
    ("桃蹊路街道", 104.126, 30.671),
    ("跳蹬河街道", 104.145, 30.640),
    ("二仙桥街道", 104.138, 30.690),
    ("双水碾街道", 104.101, 30.697),
    ("白莲池街道", 104.112, 30.716),
    ("保和街道", 104.185, 30.640),
    ("青龙街道", 104.155, 30.722),
    ("龙潭街道", 104.205, 30.705),
)

_PLACE_WORDS = (
    "建设 东虹 双林 杉板桥 李家沱 崔家店 圣灯 踏水 八里 青和 和美 万年 府青 玉双 驷马 "
    "槐树店 东秀 望平 多宝寺 双水碾 跳蹬河 白莲池 桃蹊 新鸿 东林 双桥 华林 前锋 致强 北站 "
    "双建 祥和 荆竹 人民塘 电子 东调 新华 光荣 五冶 曹家巷 八里桥 昭青 五福 天鹅 桂林 "
    "长天 和平 东风 幸福 向荣 红星 锦绣 华润 金色 沙河 水碾河 杨家 三友 府河 东郊 建材 "
    "工农 万科 东篱 蜀龙 华泰 保平 青龙 龙潭 昭觉 天回 新村 猛追湾 双店 蓝谷 麻石 "
    "怡福 民兴 新桥 东环 驿都 理工 成渝 二仙 新开 龙华 兴业 华联 锦绣苑 花照壁 金牛 "
    "建工 跃进 光明 太平 建南 建北 建东 建西 水电 机车 振兴 宏明 晨光 红光 "
    "东方 东升 新都 八一 曙光 和乐 福宁 富民 长寿 建新 惠民 安居 民乐 乐居 "
    "东苑 北苑 南苑 西苑 翠竹 槐荫 桃园 梨园 杏林 荷塘 兰溪"
).split()

ROADS = (
    "建设路 二环路东二段 府青路 杉板桥路 一环路东三段 双林路 万年场路 崔家店路 东虹路 "
    "猛追湾街 望平街 双桥路 跳蹬河路 保和路 龙潭路 青龙街 驷马桥路 北站东一路 二仙桥东路 "
    "成华大道 蜀龙路 华泰路 东三环路 八里庄路 致强路 昭觉寺南路 玉双路 踏水桥北街 "
    "槐树店路 东篱路 建设北路 建设南路 双庆路 刃具厂路 秀苑路 圣灯路 龙潭寺东路"
).split()

_SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐"
    "许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程苏魏吕丁任沈"
)
_GIVEN = (
    "伟芳娜敏静丽强磊军洋勇艳杰娟涛明超秀霞平刚桂英华建"
    "国文红玲兰志琴云婷浩宇欣怡佳俊鹏飞丹蓉川蜀渝锦"
)
_ESTATE_SUFFIX = ("小区", "花园", "苑", "家园", "公寓", "宿舍", "院")


def community_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` distinct community names (…社区)."""
    words = list(dict.fromkeys(_PLACE_WORDS))
    rng.shuffle(words)
    names = [f"{w}社区" for w in words[:n]]
    ordinal = "一二三四五六七八九"
    i = 0
    while len(names) < n:
        names.append(f"{words[i % len(words)]}{ordinal[(i // len(words)) % 9]}社区")
        i += 1
    return names


def person_names(n: int, rng: np.random.Generator) -> list[str]:
    """`n` plausible Chinese personal names (surname + one or two given characters)."""
    s = rng.integers(0, len(_SURNAMES), n)
    g1 = rng.integers(0, len(_GIVEN), n)
    g2 = rng.integers(-len(_GIVEN), len(_GIVEN), n)  # negative = single given character
    return [
        _SURNAMES[a] + _GIVEN[b] + (_GIVEN[c] if c >= 0 else "")
        for a, b, c in zip(s, g1, g2, strict=True)
    ]


def phone_numbers(n: int, rng: np.random.Generator) -> list[str]:
    """`n` mobile numbers of the mainland shape (1[3-9]x xxxx xxxx)."""
    second = rng.integers(3, 10, n)
    rest = rng.integers(0, 10**9, n)
    return [f"1{a}{b:09d}" for a, b in zip(second, rest, strict=True)]


def courtyard_name(i: int, rng: np.random.Generator) -> str:
    """A courtyard name: either a numbered compound on a road or a named estate."""
    if rng.random() < 0.45:
        return f"{ROADS[int(rng.integers(len(ROADS)))]}{int(rng.integers(1, 300))}号院"
    word = _PLACE_WORDS[int(rng.integers(len(_PLACE_WORDS)))]
    return f"{word}{_ESTATE_SUFFIX[i % len(_ESTATE_SUFFIX)]}"


def address(street: str, rng: np.random.Generator) -> str:
    """A street address inside the district."""
    road = ROADS[int(rng.integers(len(ROADS)))]
    return f"成都市成华区{street}{road}{int(rng.integers(1, 400))}号"
