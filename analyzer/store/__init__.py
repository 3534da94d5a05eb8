"""The DuckDB store: schema, writes, the ingest lock, exports."""
