"""Delivery from the outbox to the outside: signed webhooks and notifications.

Both senders run in every API process after commit, claim their rows with
``FOR UPDATE SKIP LOCKED`` and a lease, and send outside any transaction.
Live subscriptions read the same outbox but live in ``subscriptions/``.
"""
