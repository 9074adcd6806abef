"""User-facing errors: one line that names what is wrong and what to do. The CLI prints them, no traceback."""


class NinesError(Exception):
    """An error the user can act on; str(error) is the whole message, always one line (a parser's
    multi-line detail or a user's value with a newline in it is folded into it)."""

    def __init__(self, message: object = "") -> None:
        super().__init__(" ".join(str(message).split()))


class TopologyError(NinesError):
    """A topology file is malformed: the message names the file, the field and the fix."""


class LabError(NinesError):
    """The lab is missing, half-built or did not come up."""


class Interrupted(NinesError):
    """The user pressed Ctrl-C: the work stopped part-way; the message says how to finish or undo it."""


class RolledBack(NinesError):
    """A guarded change failed its canary and was rolled back by itself (exit 3)."""
