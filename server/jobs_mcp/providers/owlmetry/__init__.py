"""OwlMetry: background job runs of a team (list, trigger, get, cancel); simulator in ``simulator.py``."""
