"""How much memory a file may take once read: one budget for every reader, checked before anything is read.

A small file can claim gigabytes: a deflated ``.npz`` array of zeros, an HDF5 dataset declared
with 200 million rows and no data, a YAML "billion laughs". Every reader of sb3-behave (episode
files, preference answers, Minari datasets, model zips, YAML configs and run folders) adds up
what a file *declares* (array headers, zip directories, dataset shapes) and refuses it before
reading when that is over the budget, in one line naming the file and the size. What a file
actually holds can never exceed what it declares: zip members are read up to their declared
size, arrays up to their header's shape.

The budget is :data:`DEFAULT_MAX_READ_BYTES` per file; set ``SB3_BEHAVE_MAX_READ_BYTES`` (bytes,
or a number with ``K``, ``M`` or ``G``) to read larger files, for example a long recording of
image observations or a large Minari dataset. YAML files are text a person writes: at most
:data:`MAX_YAML_BYTES`.
"""

from __future__ import annotations

import os
import re
import zipfile
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator

#: The environment variable that sets the budget of one file.
ENV_VAR = "SB3_BEHAVE_MAX_READ_BYTES"
#: Bytes one file may take in memory once read, unless ``SB3_BEHAVE_MAX_READ_BYTES`` says otherwise
#: (10,000 frames of Flappy Bird's image observations take 212 MB; its feature observations 1.8 MB).
DEFAULT_MAX_READ_BYTES = 256 * 2**20
#: The largest YAML file read (a zoo config, a run folder's ``config.yml``): a few kB in practice.
MAX_YAML_BYTES = 2**20
_SIZE = re.compile(r"\s*(\d+(?:\.\d*)?)\s*([KMG]?)i?B?\s*", re.IGNORECASE)


class TooLargeError(ValueError):
    """A file that would take more memory than the budget; the message names it, the size and the budget."""


def human(size: float) -> str:
    """``size`` bytes in the unit that reads best: ``"3.4 GiB"``, ``"212 MiB"``, ``"12 kiB"``."""
    for unit, scale in (("GiB", 2**30), ("MiB", 2**20), ("kiB", 2**10)):
        if size >= scale:
            return f"{size / scale:,.1f} {unit}" if size < 10 * scale else f"{size / scale:,.0f} {unit}"
    return f"{int(size)} bytes"


def max_read_bytes() -> int:
    """The budget of one file: ``$SB3_BEHAVE_MAX_READ_BYTES`` if set, else :data:`DEFAULT_MAX_READ_BYTES`.

    :raises ValueError: the variable is set to something that is not a size
    """
    text = os.environ.get(ENV_VAR)
    if text is None or not text.strip():
        return DEFAULT_MAX_READ_BYTES
    match = _SIZE.fullmatch(text)
    if match is None:
        raise ValueError(f"{ENV_VAR}={text!r}: expected a size in bytes, or a number with K, M or G (512M, 2G)")
    return int(float(match.group(1)) * {"": 1, "K": 2**10, "M": 2**20, "G": 2**30}[match.group(2).upper()])


def check_claim(
    where: Any, claimed: int, what: str = "its contents", budget: int | None = None, error: type[ValueError] | None = None
) -> None:
    """Refuse, before reading, a file whose contents would take more than the budget.

    :param where: the file (or dataset), named in the message
    :param claimed: the bytes it declares
    :param what: what takes them, for the message ("its arrays", "episode 3")
    :param budget: bytes allowed (default: :func:`max_read_bytes`)
    :param error: the exception to raise (the reader's own, such as ``DemonstrationError``; default :class:`TooLargeError`)
    :raises TooLargeError: over the budget (or ``error``)
    """
    budget = max_read_bytes() if budget is None else budget
    if claimed > budget:
        raise (error or TooLargeError)(
            f"{where}: {what} would take {human(claimed)} in memory, over the {human(budget)} one file may take: "
            f"refused before reading (set {ENV_VAR}, e.g. {ENV_VAR}=2G, to read larger files)"
        )


def npy_claim(archive: zipfile.ZipFile, member: str) -> tuple[tuple[int, ...], Any, int]:
    """The shape, dtype and bytes that a ``.npy`` member of an ``.npz`` declares in its header (nothing else is read).

    :param archive: the ``.npz`` opened as a zip file
    :param member: the member's name (``obs.npy``)
    :raises KeyError: no such member
    :raises ValueError: not a valid ``.npy`` header
    """
    import numpy as np

    with archive.open(archive.getinfo(member)) as file:
        version = np.lib.format.read_magic(file)
        if version == (1, 0):
            shape, _, dtype = np.lib.format.read_array_header_1_0(file)
        else:
            shape, _, dtype = np.lib.format.read_array_header_2_0(file)
    return shape, dtype, int(np.prod(shape, dtype=object)) * dtype.itemsize


def check_npz(path: Path, archive: zipfile.ZipFile, names: Iterable[str], error: type[ValueError] = TooLargeError) -> None:
    """Refuse an ``.npz`` whose arrays ``names`` claim more than the budget together, or more than their members hold.

    :param path: the file, for messages
    :param archive: the file opened as a zip file (``np.load(...).zip``)
    :param names: the arrays that will be read
    :param error: the exception raised (a bad header, a size that does not fit, over the budget)
    :raises TooLargeError: over the budget, unless ``error`` is given
    """
    total = 0
    for name in names:
        try:
            shape, dtype, claimed = npy_claim(archive, f"{name}.npy")
        except (KeyError, ValueError, zipfile.BadZipFile, EOFError, OSError) as problem:
            raise error(f"{path}: array {name!r} has no valid header ({type(problem).__name__}: {problem})") from None
        held = archive.getinfo(f"{name}.npy").file_size
        if claimed > held:
            raise error(
                f"{path}: array {name!r} claims shape {shape} of {dtype} ({claimed:,} bytes), but holds {held:,} bytes"
            )
        total += claimed
    check_claim(path, total, "its arrays", error=None if error is TooLargeError else error)


def check_zip(path: Path, what: str = "its members", budget: int | None = None) -> None:
    """Refuse a zip file whose members claim more than the budget uncompressed (its directory only is read).

    :param path: the zip file
    :param what: what the members are, for the message
    :param budget: bytes allowed (default: :func:`max_read_bytes`)
    :raises TooLargeError: over the budget
    :raises zipfile.BadZipFile: not a zip file
    """
    with zipfile.ZipFile(path) as archive:
        claimed = sum(info.file_size for info in archive.infolist())
    check_claim(path, claimed, what, budget)


def check_text_size(path: Path, limit: int = MAX_YAML_BYTES, what: str = "YAML file") -> None:
    """Refuse a text file (YAML a person writes) larger than ``limit`` bytes, before reading it.

    :raises TooLargeError: larger
    """
    size = path.stat().st_size
    if size > limit:
        raise TooLargeError(f"{path}: a {what} of {human(size)}, over the {human(limit)} one may have: refused before reading")


#: The attribute where ``torch._disable_dynamo``'s wrapper caches the method it calls.
_CACHED = "__dynamo_disable"


@contextmanager
def without_torch_compiler() -> Iterator[None]:
    """Within: building and loading an SB3 model does not import torch's compiler (``torch._dynamo``).

    torch wraps a few methods of its optimizers (adding a parameter group, loading and saving their
    state, zeroing gradients) so that ``torch.compile`` never traces into them, and the wrapper
    imports the compiler, with sympy and pandas, on its first call: about 90 MB and a second,
    spent by every SB3 model on load because a policy builds its optimizer, even for an agent that
    only acts. Within, those wrappers call the method directly, which is all they do outside
    ``torch.compile``; on exit they are as they were. A torch whose optimizers are wrapped otherwise
    is left alone.
    """
    try:
        import torch
        from torch import _compile
    except ImportError:
        yield
        return
    wrapper_code = _compile._disable_dynamo(lambda: None).__code__
    patched = []
    for value in vars(torch.optim.Optimizer).values():
        method = getattr(value, "__wrapped__", None)
        if getattr(value, "__code__", None) is wrapper_code and method is not None and not hasattr(method, _CACHED):
            setattr(method, _CACHED, method)  # the wrapper's cache of the compiler-disabled method
            patched.append(method)
    try:
        yield
    finally:
        for method in patched:
            if getattr(method, _CACHED, None) is method:
                delattr(method, _CACHED)


__all__ = [
    "DEFAULT_MAX_READ_BYTES",
    "ENV_VAR",
    "MAX_YAML_BYTES",
    "TooLargeError",
    "check_claim",
    "check_npz",
    "check_text_size",
    "check_zip",
    "human",
    "max_read_bytes",
    "npy_claim",
    "without_torch_compiler",
]
