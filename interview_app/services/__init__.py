"""Domain logic, framework-free (never imports reflex)."""
