"""WiseRows: background jobs (SEO, AI, sync, export) with progress and logs; simulator in ``simulator.py``."""
