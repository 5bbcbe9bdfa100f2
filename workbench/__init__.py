"""Services over the database: ingest, review queues, export, reports, auth, audit."""
