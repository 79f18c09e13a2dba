"""Where commands write their reports: never over an earlier one unless asked (``--overwrite``). Imports nothing heavy."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Union

PathLike = Union[str, "os.PathLike[str]"]


def check_output(path: PathLike, overwrite: bool = False, folder: bool = True, flag: str = "--out") -> Path:
    """Check, before any work, that a report may be written at ``path``.

    :param path: the output folder (``folder``) or file
    :param overwrite: allow replacing what is there
    :param folder: ``path`` is a folder (else a file)
    :param flag: the option that gave ``path``, named in errors
    :return: ``path`` as a ``Path``
    :raises ValueError: ``path`` holds an earlier report (and ``overwrite`` is false), or is a file
        where a folder is expected (or the reverse)
    """
    path = Path(path)
    if not path.exists():
        return path
    if folder and not path.is_dir():
        raise ValueError(f"{flag} {path}: is a file, expected a folder")
    if not folder and path.is_dir():
        raise ValueError(f"{flag} {path}: is a folder, expected a file")
    if overwrite:
        return path
    if not folder:
        raise ValueError(f"{flag} {path}: already exists: pass --overwrite to replace it, or choose another path")
    entries = sorted(p.name for p in path.iterdir())
    if entries:
        shown = ", ".join(entries[:3]) + (", ..." if len(entries) > 3 else "")
        raise ValueError(
            f"{flag} {path}: is not empty ({shown}), and may hold an earlier report: "
            f"pass --overwrite to replace it, or choose another {flag}"
        )
    return path


__all__ = ["check_output"]
