"""Locations: warehouses, stores, temporary warehouses."""

from __future__ import annotations

from enum import Enum
from typing import Annotated, Any, ClassVar

import strawberry

from schema.describe import enum_values
from schema.loading import READS, compiled_type, loaded
from schema.relay import Node, lazy_id, made


@enum_values(
    CENTRAL_WAREHOUSE="The central warehouse that supplies the stores.",
    STORE="A shop selling to customers.",
    TEMPORARY_WAREHOUSE="A temporary warehouse (e.g. for a fair or a pop-up).",
)
@strawberry.enum(description="What a location is.")
class LocationKind(Enum):
    CENTRAL_WAREHOUSE = "CENTRAL_WAREHOUSE"
    STORE = "STORE"
    TEMPORARY_WAREHOUSE = "TEMPORARY_WAREHOUSE"


@enum_values(
    ZH_HK="Traditional Chinese (Hong Kong).",
    EN="English.",
)
@strawberry.enum(description="The language of a name.")
class Locale(Enum):
    ZH_HK = "zh-HK"
    EN = "en"


@lazy_id
@compiled_type
@strawberry.type(
    description="A place that holds stock: the central warehouse, a store, or a temporary "
    "warehouse."
)
class Location(Node):
    code: str = strawberry.field(
        description='Short code, unique in the tenant (e.g. "CWB"); stable, usable in '
        "location(code:)."
    )
    name_zh: str = strawberry.field(description="The name in Traditional Chinese.")
    name_en: str = strawberry.field(description="The name in English.")
    kind: LocationKind = strawberry.field(description="Warehouse, store or temporary warehouse.")
    pk: strawberry.Private[int]

    @strawberry.field(
        description="The name in one language (Traditional Chinese by default).", metadata=READS
    )
    def name(
        self,
        locale: Annotated[
            Locale | None, strawberry.argument(description="ZH_HK (the default) or EN.")
        ] = Locale.ZH_HK,
    ) -> str:
        return self.name_en if locale is Locale.EN else self.name_zh

    # copied unchanged from the row's columns by from_row (see schema/loading.py)
    ROW_FIELDS: ClassVar[frozenset[str]] = frozenset({"code", "name_zh", "name_en"})

    @classmethod
    def from_row(cls, row: Any) -> Location:
        return made(
            cls,
            {
                "code": row.code,
                "name_zh": row.name_zh,
                "name_en": row.name_en,
                "kind": LocationKind(row.kind),
                "pk": row.id,
            },
        )


def loaded_location(key: str, description: str) -> Any:
    """A ``Location`` field looked up by the location id the parent holds in ``key``."""
    return loaded(
        "location_by_id",
        key,
        Location.from_row,
        row_fields=Location.ROW_FIELDS,
        description=description,
    )
