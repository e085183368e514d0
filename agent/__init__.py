"""The LiveKit Agents interviewer worker (`python -m agent start|dev|console`)."""

__version__ = "0.1.0"
