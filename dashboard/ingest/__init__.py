"""The ingest worker: stream → store → pushes. It never imports the web layer."""
