"""``python -m agent start|dev|console`` (LiveKit Agents CLI) and ``python -m agent deliver-outbox``."""

from agent.worker import main

if __name__ == "__main__":
    raise SystemExit(main())
