"""Inventory valuation at moving weighted-average cost (HKAS 2)."""
