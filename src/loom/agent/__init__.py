"""Agents Loom runs itself: the scripted worker and the launcher for real coding agents."""
