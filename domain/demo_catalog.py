"""Name and price tables for the demo pharmacy-and-cosmetics chain.

Kept apart from :mod:`domain.demo_data` so the generator stays readable. All
brands are invented; any likeness to a real trademark is accidental.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Brand:
    """A brand; ``tier`` scales price (and, inversely, how well it sells)."""

    name_zh: str
    name_en: str
    tier: float


@dataclass(frozen=True, slots=True)
class ProductType:
    """A kind of product with its typical shelf price in HKD."""

    name_zh: str
    name_en: str
    base_price_hkd: float


@dataclass(frozen=True, slots=True)
class Variant:
    """A size, pack or shade; scales price and demand."""

    name_zh: str
    name_en: str
    price_factor: float
    demand_factor: float


@dataclass(frozen=True, slots=True)
class Category:
    """A shelf category; ``weight`` is its share of the SKU count and
    ``demand_weight`` how fast a typical SKU of it sells (masks fastest)."""

    code: str
    sku_prefix: str
    name_zh: str
    name_en: str
    weight: int
    demand_weight: float
    brands: tuple[Brand, ...]
    types: tuple[ProductType, ...]
    variants: tuple[Variant, ...]


STORE_MANAGER_NAMES = (
    "梁家輝 Leung Ka Fai",
    "周慧敏 Chau Wai Man",
    "鄭少秋 Cheng Siu Chau",
    "劉德明 Lau Tak Ming",
    "區嘉雯 Au Ka Man",
    "鄧國強 Tang Kwok Keung",
)
CLERK_NAMES = (
    "麥子軒 Mak Tsz Hin",
    "蔡寶儀 Choi Po Yee",
    "馮俊傑 Fung Chun Kit",
    "葉曉彤 Yip Hiu Tung",
    "容志偉 Yung Chi Wai",
    "崔嘉敏 Chui Ka Man",
)
"""Cantonese-romanised staff names, one per store in ``LOCATIONS`` order."""

_PACKS = (
    Variant("標準裝", "Regular", 1.0, 1.0),
    Variant("大包裝", "Value Pack", 1.7, 0.6),
    Variant("便攜裝", "Pocket Size", 0.6, 0.8),
)

CATEGORIES: tuple[Category, ...] = (
    Category(
        "MASK",
        "MSK",
        "口罩",
        "Face Masks",
        30,
        6.0,
        (
            Brand("安護", "SafeGuard", 0.9),
            Brand("淨呼吸", "PureBreath", 1.0),
            Brand("康盾", "CareShield", 1.15),
            Brand("雲柔", "CloudSoft", 1.3),
            Brand("森息", "ForestAir", 1.05),
        ),
        (
            ProductType("三層醫用口罩", "3-Ply Surgical Mask", 39),
            ProductType("兒童口罩", "Kids' Mask", 45),
            ProductType("KN95 口罩", "KN95 Respirator", 69),
            ProductType("立體防護口罩", "3D Protective Mask", 55),
            ProductType("彩色時尚口罩", "Colour Fashion Mask", 49),
            ProductType("獨立包裝口罩", "Individually Wrapped Mask", 59),
        ),
        (
            Variant("10片裝", "10 pcs", 0.35, 1.2),
            Variant("30片裝", "30 pcs", 0.8, 1.0),
            Variant("50片裝", "50 pcs", 1.0, 0.9),
            Variant("100片裝", "100 pcs", 1.8, 0.5),
        ),
    ),
    Category(
        "COLD_FLU",
        "CLD",
        "感冒藥",
        "Cold & Flu",
        55,
        3.0,
        (
            Brand("德和堂", "Tak Wo Tong", 1.0),
            Brand("康立", "Conlix", 1.1),
            Brand("寶安", "Po On Pharma", 0.9),
            Brand("舒適達", "Sootheda", 1.2),
            Brand("百靈", "Bailing Health", 1.0),
        ),
        (
            ProductType("感冒傷風丸", "Cold & Flu Pills", 38),
            ProductType("日夜感冒片", "Day & Night Cold Tablets", 48),
            ProductType("止咳糖漿", "Cough Syrup", 45),
            ProductType("潤喉糖", "Throat Lozenges", 22),
            ProductType("鼻塞噴劑", "Nasal Decongestant Spray", 58),
            ProductType("退燒止痛片", "Fever & Pain Relief Tablets", 32),
            ProductType("熱飲感冒沖劑", "Hot Remedy Sachets", 42),
        ),
        (
            Variant("標準裝", "Regular", 1.0, 1.0),
            Variant("大包裝", "Value Pack", 1.7, 0.6),
            Variant("旅行裝", "Travel Pack", 0.6, 0.8),
            Variant("兒童配方", "Children's Formula", 1.05, 0.7),
        ),
    ),
    Category(
        "VITAMINS",
        "VIT",
        "維他命",
        "Vitamins",
        70,
        0.8,
        (
            Brand("活力源", "VitaSource", 1.0),
            Brand("天然寶", "NaturaBay", 1.2),
            Brand("健之選", "HealthChoice", 0.9),
            Brand("百益", "Omnibene", 1.1),
            Brand("澳康寶", "AusKangbo", 1.3),
            Brand("晨光", "Morning Light", 0.95),
        ),
        (
            ProductType("維他命C 1000毫克", "Vitamin C 1000mg", 88),
            ProductType("維他命D3 1000IU", "Vitamin D3 1000IU", 78),
            ProductType("綜合維他命", "Multivitamin", 128),
            ProductType("鈣片加D3", "Calcium + D3", 98),
            ProductType("深海魚油", "Fish Oil 1000mg", 138),
            ProductType("維他命B雜", "Vitamin B Complex", 92),
            ProductType("鋅片", "Zinc Tablets", 68),
            ProductType("葉黃素", "Lutein", 188),
        ),
        (
            Variant("30粒", "30 tabs", 0.55, 1.2),
            Variant("60粒", "60 tabs", 1.0, 1.0),
            Variant("120粒", "120 tabs", 1.7, 0.6),
            Variant("家庭裝180粒", "Family Pack 180 tabs", 2.3, 0.35),
        ),
    ),
    Category(
        "SKINCARE",
        "SKN",
        "護膚",
        "Skincare",
        85,
        0.6,
        (
            Brand("水漾", "AquaGlow", 1.0),
            Brand("肌研坊", "SkinLab HK", 1.1),
            Brand("雪肌", "SnowVeil", 1.35),
            Brand("植萃", "Botanica Pure", 1.0),
            Brand("柔顏", "Softé", 0.85),
            Brand("璀璨", "Lumière Rose", 1.6),
        ),
        (
            ProductType("保濕面霜", "Moisturising Cream", 128),
            ProductType("潔面乳", "Facial Cleanser", 69),
            ProductType("爽膚水", "Toner", 98),
            ProductType("精華液", "Serum", 268),
            ProductType("面膜5片", "Sheet Mask 5 pcs", 79),
            ProductType("防曬乳 SPF50+", "Sunscreen SPF50+", 118),
            ProductType("眼霜", "Eye Cream", 198),
            ProductType("卸妝油", "Cleansing Oil", 109),
            ProductType("潤唇膏", "Lip Balm", 35),
        ),
        (
            Variant("清爽型", "Light", 1.0, 1.0),
            Variant("滋潤型", "Rich", 1.05, 0.9),
            Variant("敏感肌配方", "Sensitive Skin", 1.1, 0.8),
            Variant("旅行裝", "Travel Size", 0.45, 0.7),
            Variant("大容量", "Jumbo Size", 1.6, 0.5),
        ),
    ),
    Category(
        "COSMETICS",
        "COS",
        "化妝品",
        "Cosmetics",
        80,
        0.6,
        (
            Brand("花漾", "Blossom Kiss", 0.9),
            Brand("魅色", "Chromé", 1.1),
            Brand("星綺", "StellaMuse", 1.3),
            Brand("小幸運", "Lucky Charm", 0.8),
            Brand("絲絨", "Velvetine", 1.2),
        ),
        (
            ProductType("唇膏", "Lipstick", 99),
            ProductType("唇釉", "Lip Gloss", 89),
            ProductType("粉底液", "Liquid Foundation", 168),
            ProductType("氣墊粉餅", "Cushion Compact", 198),
            ProductType("眼線筆", "Eyeliner", 79),
            ProductType("睫毛膏", "Mascara", 99),
            ProductType("眼影盤", "Eyeshadow Palette", 159),
            ProductType("胭脂", "Blush", 109),
            ProductType("眉筆", "Brow Pencil", 69),
        ),
        (
            Variant("01 玫瑰紅", "01 Rose Red", 1.0, 1.2),
            Variant("02 珊瑚橙", "02 Coral", 1.0, 1.0),
            Variant("03 裸杏色", "03 Nude Apricot", 1.0, 1.0),
            Variant("04 豆沙色", "04 Mauve", 1.0, 0.8),
            Variant("05 自然色", "05 Natural", 1.0, 1.1),
        ),
    ),
    Category(
        "PERSONAL_CARE",
        "PER",
        "個人護理",
        "Personal Care",
        80,
        1.5,
        (
            Brand("清新", "FreshDay", 0.85),
            Brand("柔絲", "SilkyOne", 1.0),
            Brand("家安", "HomeCare Plus", 0.9),
            Brand("海洋之心", "Ocean Heart", 1.1),
            Brand("竹炭坊", "Bamboo Char", 1.0),
            Brand("薄荷村", "Mint Village", 0.9),
        ),
        (
            ProductType("洗髮露", "Shampoo", 49),
            ProductType("護髮素", "Conditioner", 49),
            ProductType("沐浴露", "Body Wash", 45),
            ProductType("牙膏", "Toothpaste", 25),
            ProductType("漱口水", "Mouthwash", 39),
            ProductType("止汗劑", "Antiperspirant", 35),
            ProductType("搓手液", "Hand Sanitiser", 22),
            ProductType("濕紙巾", "Wet Wipes", 15),
            ProductType("衞生巾", "Sanitary Pads", 29),
        ),
        (
            Variant("標準裝", "Regular", 1.0, 1.0),
            Variant("家庭裝", "Family Size", 1.7, 0.6),
            Variant("補充裝", "Refill", 0.8, 0.7),
            Variant("旅行裝", "Travel Size", 0.4, 0.6),
        ),
    ),
    Category(
        "BABY",
        "BBY",
        "嬰兒用品",
        "Baby Care",
        45,
        1.0,
        (
            Brand("寶寶樂", "BabyJoy", 1.0),
            Brand("小天使", "Little Angel", 1.1),
            Brand("親親", "KissyKids", 0.9),
            Brand("綿綿", "Mimi Soft", 1.05),
            Brand("晴天寶貝", "Sunny Baby", 1.2),
        ),
        (
            ProductType("紙尿片", "Diapers", 119),
            ProductType("學習褲", "Training Pants", 129),
            ProductType("嬰兒濕紙巾", "Baby Wipes", 25),
            ProductType("嬰兒潤膚露", "Baby Lotion", 69),
            ProductType("嬰兒洗髮沐浴露", "Baby Head-to-Toe Wash", 65),
            ProductType("護臀膏", "Nappy Rash Cream", 55),
            ProductType("奶瓶清潔液", "Bottle Cleanser", 49),
            ProductType("嬰兒奶粉第一階段", "Infant Formula Stage 1", 268),
        ),
        (
            Variant("標準裝", "Regular", 1.0, 1.0),
            Variant("大包裝", "Jumbo Pack", 1.7, 0.6),
            Variant("試用裝", "Trial Pack", 0.4, 0.5),
            Variant("有機配方", "Organic Formula", 1.3, 0.6),
        ),
    ),
    Category(
        "HEALTH_FOOD",
        "HFD",
        "保健食品",
        "Health Food",
        35,
        0.5,
        (
            Brand("北山堂", "Pak Shan Tong", 1.2),
            Brand("壽康", "Sau Hong", 1.0),
            Brand("蔘之源", "Ginseng Origin", 1.4),
            Brand("燕語", "Swallow's Song", 1.5),
            Brand("草本軒", "Herbal Pavilion", 0.9),
        ),
        (
            ProductType("花旗蔘茶", "American Ginseng Tea", 88),
            ProductType("即食燕窩", "Ready-to-Eat Bird's Nest", 268),
            ProductType("靈芝孢子膠囊", "Lingzhi Spore Capsules", 388),
            ProductType("滴雞精", "Essence of Chicken", 138),
            ProductType("蜂膠", "Propolis", 168),
            ProductType("冬蟲夏草膠囊", "Cordyceps Capsules", 398),
            ProductType("膠原蛋白飲", "Collagen Drink", 198),
        ),
        (
            Variant("單盒", "Single Box", 1.0, 1.0),
            Variant("禮盒裝", "Gift Box", 1.8, 0.5),
            Variant("經濟裝", "Value Pack", 1.5, 0.6),
        ),
    ),
    Category(
        "FIRST_AID",
        "AID",
        "急救",
        "First Aid",
        40,
        1.0,
        (
            Brand("安心", "AnSum", 1.0),
            Brand("快癒", "QuickHeal", 1.1),
            Brand("護理家", "CareHome", 0.9),
            Brand("醫伴", "Medipal", 1.0),
        ),
        (
            ProductType("膠布", "Adhesive Bandages", 19),
            ProductType("消毒藥水", "Antiseptic Solution", 29),
            ProductType("75%藥用酒精", "Medical Alcohol 75%", 25),
            ProductType("無菌紗布", "Sterile Gauze", 22),
            ProductType("彈性繃帶", "Elastic Bandage", 35),
            ProductType("跌打藥油", "Muscle Rub Oil", 48),
            ProductType("蚊叮膏", "Insect Bite Cream", 35),
            ProductType("電子體溫計", "Digital Thermometer", 89),
            ProductType("家居急救包", "Home First Aid Kit", 149),
        ),
        _PACKS,
    ),
)
