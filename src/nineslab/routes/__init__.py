"""Route changes: read and checked from a routes file (change), published through a canary with
automatic rollback, journalled, rolled back by hand (guard)."""

from nineslab.routes.change import RouteChange, load_change, parse_change
from nineslab.routes.guard import history, push, rollback

__all__ = ["RouteChange", "history", "load_change", "parse_change", "push", "rollback"]
