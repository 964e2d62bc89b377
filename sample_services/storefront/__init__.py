"""Storefront: the web front end's backend, a consumer of orders and notifier."""
