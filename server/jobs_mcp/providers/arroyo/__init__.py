"""Arroyo: pipelines and their jobs over Arroyo's REST API (/api/v1), with an in-process simulator."""
