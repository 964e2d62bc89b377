"""Inventory: items and their stock; v3 renames ``stock`` to ``available``."""
