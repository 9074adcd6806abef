from __future__ import annotations

import os
from pathlib import Path

# Tests read topologies/ and friends relative to the repository root.
os.chdir(Path(__file__).resolve().parent.parent)
