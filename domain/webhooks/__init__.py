"""Webhooks: partner endpoints fed from the same outbox as subscriptions."""
