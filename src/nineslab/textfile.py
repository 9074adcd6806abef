"""Reading a file a user wrote (topology, catalogue, experiment, assumptions, routes): its text, or one
line saying why it cannot be read — never a traceback for a missing file or bytes that are not UTF-8."""

from __future__ import annotations

from pathlib import Path

from nineslab.errors import NinesError


def read_user_file(path: Path, what: str) -> str:
    """The text of `path`; NinesError naming the file when it cannot be read or is not UTF-8 text."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise NinesError(f"{path}: cannot read the {what} ({exc.strerror or exc}) — check the path") from None
    except UnicodeDecodeError as exc:
        raise NinesError(
            f"{path}: the {what} is not UTF-8 text (byte {exc.start}: {exc.object[exc.start : exc.start + 1]!r})"
            " — save it as UTF-8"
        ) from None
