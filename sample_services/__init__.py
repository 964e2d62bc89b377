"""A small shop, in several versions, for the rollout harness to check.

Four services, each version a standalone FastAPI module that keeps its data in
memory (run one with ``python -m uvicorn sample_services.inventory.v1:app``):

- ``inventory`` (HTTP provider). v2 adds an optional field and reservations;
  v3 renames the ``stock`` field that ``orders`` reads to ``available``.
- ``orders`` (HTTP provider and consumer of inventory through ``INVENTORY_URL``).
  v2 reserves stock when it places an order, so it needs inventory v2.
- ``notifier`` (websocket provider of order events on ``/ws/orders``). v2 renames
  the ``order_id`` field of its messages to ``order_ref``.
- ``storefront`` (consumer of orders through ``ORDERS_URL`` and of notifier
  through ``NOTIFIER_URL``). v1 reads only ``order_id``; v2 reads either field.

The contracts under ``contracts/`` are derived from these modules:
``export_contracts.py`` writes the OpenAPI and AsyncAPI documents, and
``write_pacts.py`` records the consumers' Pact files with pact-python.
"""
