"""Ingest: the task-log format, its validation, and the DuckDB store it loads."""
