"""Cloud Race: an agent-based model of the US-China contest for government cloud contracts."""

__version__ = "0.1.0"
