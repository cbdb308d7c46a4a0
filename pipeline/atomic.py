"""Files newsdesk writes (outputs, the database backup) written whole or not at all: into a
temporary file beside the target, renamed over it only once complete, so a failed or interrupted
write leaves no half file and never clobbers the previous good one. A path that cannot be
written is one line naming it."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pipeline.errors import NewsdeskError


@contextmanager
def atomic_write(out: Path) -> Iterator[Path]:
    """Yield a fresh temporary path in `out`'s directory to write to; on success it is synced
    and renamed to `out` (atomic on one filesystem), on any failure deleted."""
    out = Path(out)
    tmp = _create_beside(out)
    try:
        yield tmp
        with tmp.open("rb+") as fh:  # on disk before the rename: a crash keeps the old file
            os.fsync(fh.fileno())
        os.replace(tmp, out)
    except BaseException as exc:
        tmp.unlink(missing_ok=True)
        if isinstance(exc, OSError):  # the disk filled, the directory went away
            raise NewsdeskError(f"{out}: cannot write: {exc.strerror or exc}") from None
        raise


def _create_beside(out: Path) -> Path:
    """An empty new file next to `out`, made with os.open rather than tempfile: mkstemp's mode
    is 0600 and the export should get the umask's usual mode, as a plain open() gives."""
    try:
        if out.is_dir():
            raise NewsdeskError(f"{out}: is a directory (give a file name)")
        for parent in out.parents:
            if parent.exists():
                if not parent.is_dir():
                    raise NewsdeskError(f"{out}: {parent} is not a directory")
                break
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_name(f".{out.name}.{secrets.token_hex(4)}.tmp")
        os.close(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666))
    except OSError as exc:
        raise NewsdeskError(f"{out}: cannot write: {exc.strerror or exc}") from None
    except ValueError:  # a NUL in the path
        raise NewsdeskError(f"{str(out)!r}: not a usable file name") from None
    return tmp
