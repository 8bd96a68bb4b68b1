"""Jitsi Meet as a live proctoring service of sebframe."""
