"""The docker provider's parts: nineslab's own engine (engine.py) and the hosts' base image (image.py)."""

from nineslab.providers.docker.engine import Engine
from nineslab.providers.docker.image import Recipe, default_recipe

__all__ = ["Engine", "Recipe", "default_recipe"]
