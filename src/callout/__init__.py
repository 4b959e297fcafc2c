"""Callout: the function library a contact center's agent scripts call."""
