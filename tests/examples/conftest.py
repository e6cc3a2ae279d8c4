"""The examples' server: the same real uvicorn fixtures as the API tests."""

from tests.api.conftest import server, signing_key

__all__ = ["server", "signing_key"]
