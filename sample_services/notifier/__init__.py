"""Notifier: pushes order events over a websocket; v2 renames ``order_id``."""
