"""The LiveKit Agents interviewer worker (filled by the agent issue)."""
