"""Writing files: atomically (all of it or nothing, and never a temporary file left behind), and
only where it is allowed (``check_out_file``, before a long run).

The checkpoints of the command lines and the attention heat maps are written to a temporary
file in the target's directory, then renamed over the target (``os.replace``, atomic on POSIX).
A reader never sees half a file, and an interruption (Ctrl-C, a full disk, a directory at the
target) removes the temporary file.
"""

import contextlib
import os
import tempfile
from pathlib import Path

__all__ = ["write_atomically", "check_out_file"]


def write_atomically(path, write, prefix=".rnnlib-", suffix=".part"):
    """Call ``write(f)`` on a new binary file, then move it to ``path``.

    Parameters
    ----------
    path : str or Path
    write : callable
        ``write(f)`` writes the whole content to the open binary file ``f``.
    prefix, suffix : str
        The temporary file's name around its random part (it is hidden: a leading dot).
    """
    fd, temporary = tempfile.mkstemp(dir=os.path.dirname(os.path.abspath(path)), prefix=prefix, suffix=suffix)
    try:
        with os.fdopen(fd, "wb") as f:
            write(f)
        umask = os.umask(0)
        os.umask(umask)
        os.chmod(temporary, 0o666 & ~umask)      # a temporary file is private (0600); the target is not
        os.replace(temporary, path)
    except BaseException:                        # Ctrl-C, a full disk, a directory at path ...
        with contextlib.suppress(OSError):
            os.unlink(temporary)
        raise


def check_out_file(out, example, is_ours, kind):
    """Check before a long run that ``--out`` can be written: an existing, writable directory;
    not a directory itself; not an existing file that ``is_ours(path)`` does not recognise (a
    ``kind`` checkpoint, e.g. "rnnlib.seq2seq": an older one is replaced, anything else is not
    overwritten). Raises ``ValueError`` saying which; ``example`` is a file name to suggest."""
    if not str(out):
        raise ValueError(f"--out must name a file, e.g. {example}")
    out = Path(out)
    folder = out.parent
    if out.is_dir():
        raise ValueError(f"--out {out} is a directory; give a file name, e.g. {out / example}")
    if not folder.is_dir():
        raise ValueError(f"--out {out}: the directory {folder} does not exist")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise ValueError(f"--out {out}: the directory {folder} is not writable")
    if out.exists() and not is_ours(out):
        raise ValueError(f"--out {out} exists and is not an {kind} checkpoint; it is not overwritten: "
                         "choose another name")
    if out.exists() and not os.access(out, os.W_OK):
        raise ValueError(f"--out {out} exists and is not writable")
