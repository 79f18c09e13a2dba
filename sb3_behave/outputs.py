"""Where commands write their reports: never over an earlier one unless asked (``--overwrite``). Imports nothing heavy."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from typing import Iterator, Union

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


def check_folder(flag: str, path: PathLike | None) -> None:
    """Refuse, before any work, a folder option (``--tensorboard-log``, ``-f``, ...) that names a file.

    :param flag: the option, for the message
    :param path: its value (``None``: not given)
    :raises ValueError: naming the flag and the path
    """
    if path is not None and Path(path).exists() and not Path(path).is_dir():
        raise ValueError(f"{flag} {path}: is a file, expected a folder (one to create, or an existing one)")


@contextlib.contextmanager
def replacing(path: PathLike) -> Iterator[Path]:
    """Write a file whole or not at all: yields a temporary path beside ``path``, renamed over it on success.

    A crash or an error while writing leaves the earlier file (or none) and no temporary one. The
    temporary file starts with a dot, so folder scans for ``name-*.ext`` never see it.

    :param path: the file to write
    :return: (yields) the temporary path to write to; it keeps ``path``'s suffix, for writers that read it
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    try:
        yield temporary
        with open(temporary, "rb+") as written:  # on disk before it takes the name: a power cut keeps the old file
            os.fsync(written.fileno())
        os.replace(temporary, path)
    finally:
        if temporary.exists():
            temporary.unlink()


def write_text(path: PathLike, text: str) -> Path:
    """Write ``text`` to ``path`` whole or not at all (:func:`replacing`).

    :param path: the file
    :param text: its new content
    :return: ``path`` as a ``Path``
    """
    with replacing(path) as temporary:
        temporary.write_text(text)
    return Path(path)


def save_figure(figure: object, path: PathLike, dpi: int = 80) -> Path:
    """Save a matplotlib figure as a PNG, whole or not at all (:func:`replacing`); its folder is created.

    :param figure: a matplotlib figure
    :param path: the PNG file
    :param dpi: resolution (the default 80 dpi gives about 100 KB for a landscape)
    :return: ``path`` as a ``Path``
    """
    with replacing(path) as temporary:
        figure.savefig(temporary, dpi=dpi)  # type: ignore[attr-defined]
    return Path(path)


__all__ = ["check_folder", "check_output", "replacing", "save_figure", "write_text"]
