"""Adapters for the upstream sources: HTTP clients and tolerant payload schemas."""
