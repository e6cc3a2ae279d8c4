"""What resolvers need from the running app's configuration."""

from __future__ import annotations

from strawberry.types import Info

from domain.members.search_limit import Rate


def master_key(info: Info) -> bytes:
    """The personal-data master key (STOCKGRAPH_DATA_KEY)."""
    key: bytes | None = info.context.db.data_key
    if key is None:
        raise RuntimeError("no personal-data key (STOCKGRAPH_DATA_KEY) is configured")
    return key


def allow_http(info: Info) -> bool:
    """http:// URLs (webhooks, gateways) where settings allow them (development by
    default); when the settings are unknown (no app around the schema): no."""
    request = getattr(info.context, "request", None)
    settings = getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)
    if settings is None:
        return False
    allowed = settings.webhook_allow_http
    return bool(allowed if allowed is not None else not settings.production)


def _settings(info: Info) -> object | None:
    request = getattr(info.context, "request", None)
    return getattr(getattr(getattr(request, "app", None), "state", None), "settings", None)


def search_rate(info: Info) -> Rate:
    """The member-search rate per caller (settings; the defaults without an app)."""
    settings, default = _settings(info), Rate()
    if settings is None:
        return default
    return Rate(
        per_second=getattr(settings, "member_search_per_second", default.per_second),
        burst=getattr(settings, "member_search_burst", default.burst),
    )
