"""One example of each certificate type's content, and its usual holder: the one definition the
demo data, the tests (``tests/factories.py``) and the benchmarks (``bench/``) issue from. Plain
data: importing it loads nothing else."""

from __future__ import annotations

#: the content of an example certificate of each type, by type code
SAMPLES = {
    "yyzz": {
        "credit_code": "92110105MA00000017",
        "business_name": "北京市朝阳区张三便利店",
        "business_type": "个体工商户",
        "operator_name": "张三",
        "operator_id_number": "110105198802150035",
        "composition": "个人经营",
        "address": "北京市朝阳区示例路8号",
        "scope": "日用百货零售",
        "registered_on": "2026-11-23",
    },
    "spjyxkz": {
        "business_name": "北京朝阳示例餐饮有限公司",
        "credit_code": "91110105MA01EFGH30",
        "legal_representative": "王五",
        "residence": "北京市朝阳区示例路20号1层101",
        "premises": "北京市朝阳区示例路20号1层101",
        "business_format": "餐饮服务经营者",
        "business_items": "热食类食品制售",
        "licence_number": "JY21101050098765",
    },
    "jzz": {
        "name": "李娜",
        "sex": "女",
        "ethnicity": "汉族",
        "birth_date": "1995-07-20",
        "id_number": "440106199507200025",
        "household_address": "广东省广州市天河区天河路100号",
        "residence_address": "北京市朝阳区示例东路6号院3号楼502室",
    },
}

#: who holds each example: (ID number, name), a demo person of the development provider
HOLDERS = {
    "yyzz": ("110105198802150035", "张三"),
    "spjyxkz": ("110108197802151518", "王五"),
    "jzz": ("440106199507200025", "李娜"),
}
