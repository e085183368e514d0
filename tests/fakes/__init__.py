"""Test doubles that are real implementations of external interfaces (no mocks)."""
