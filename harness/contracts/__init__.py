"""Contract documents: OpenAPI loading and diff, Pact files, message schemas.

Nothing here starts a service or opens a connection.
"""
