"""Strait (strait-dev/strait): job orchestration over HTTP endpoints; its simulator lives in ``simulator.py``."""
