"""Suppliers, replenishment rules, the forecast and explained suggestions."""
