"""Zoom as a live proctoring service of sebframe."""
