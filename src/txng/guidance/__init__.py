"""Guidance documents and training materials on the public portal (C8), managed by the admin."""
