"""Imports through a validation layer: files are read, every row checked, then written."""
