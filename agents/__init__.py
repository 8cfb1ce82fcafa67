"""LangGraph agent graphs."""

__all__: list[str] = []
