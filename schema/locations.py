"""Locations: warehouses, stores, temporary warehouses."""

from __future__ import annotations

from enum import Enum
from typing import Any, ClassVar

import strawberry

from domain import ids
from schema.loading import READS, compiled_type
from schema.relay import Node


@strawberry.enum
class LocationKind(Enum):
    CENTRAL_WAREHOUSE = "CENTRAL_WAREHOUSE"
    STORE = "STORE"
    TEMPORARY_WAREHOUSE = "TEMPORARY_WAREHOUSE"


@strawberry.enum
class Locale(Enum):
    ZH_HK = "zh-HK"
    EN = "en"


@compiled_type
@strawberry.type
class Location(Node):
    code: str
    name_zh: str
    name_en: str
    kind: LocationKind
    pk: strawberry.Private[int]

    @strawberry.field(
        description="The name in one language (Traditional Chinese by default).", metadata=READS
    )
    def name(self, locale: Locale | None = Locale.ZH_HK) -> str:
        return self.name_en if locale is Locale.EN else self.name_zh

    # copied unchanged from the row's columns by from_row (see schema/loading.py)
    ROW_FIELDS: ClassVar[frozenset[str]] = frozenset({"code", "name_zh", "name_en"})

    @classmethod
    def from_row(cls, row: Any) -> Location:
        return cls(
            id=strawberry.ID(ids.encode("Location", row.id)),
            code=row.code,
            name_zh=row.name_zh,
            name_en=row.name_en,
            kind=LocationKind(row.kind),
            pk=row.id,
        )
