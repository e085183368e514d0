"""AI interview platform: the Reflex app package."""
