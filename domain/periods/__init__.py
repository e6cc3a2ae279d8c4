"""Closed accounting periods: what is closed stays as it was reported."""
