"""Periodic jobs inside ``stockgraph serve``: each runs once per period, in one process."""
