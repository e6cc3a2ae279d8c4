"""Notifications: a per-tenant channel configuration, an outbox, and the adapters that send.

Anything that wants to tell someone something (a test message, a triggered
offer, a replenishment alert) calls ``service.queue`` in its own transaction;
the sender (``outbox.notifications``) delivers it after commit, with
retries, through the adapter of its channel (``email``, ``sms``, ``chat``).
"""
