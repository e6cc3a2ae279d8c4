"""The browser tests' server: the ``server`` fixture of tests/conftest.py, the one the API
tests share (one process per test session)."""
