"""The course secret, from which the hidden cases' inputs derive (instructor side).

The seeds written in ``rnngrade/specs/`` are public: they are *case numbers*. With a secret,
the random inputs of hidden case ``n`` of part ``p`` (its grade id) of assignment ``a`` are drawn
from ::

    numpy.random.default_rng(int.from_bytes(hmac.digest(secret, f"{a}/{p}/{n}", "sha256"), "little"))

(HMAC-SHA256 keyed by the secret, both as UTF-8), so that reading the repository does not tell
them. Their sizes stay as the specs write them; only the values change. The visible examples
never depend on the secret. Without a secret the generator is ``numpy.random.default_rng(n)``:
the public defaults, which anyone who reads the repository can compute.

The secret is the environment variable ``RNNGRADE_SECRET`` or, when that is unset or empty, the
one line of the git-ignored file ``.rnngrade_secret`` at the course's root. It stays in the
grader's process: the specs are computed there, the sandboxed process gets none of the grader's
environment variables and does not see the course directory, and the feedback and logs never
quote it (the logs name it by a fingerprint).
"""

import hashlib
import hmac
import os
import pathlib

import numpy as np

ENV = "RNNGRADE_SECRET"
FILE = ".rnngrade_secret"
RECIPE = 'python -c "import secrets; print(secrets.token_hex(16))" > .rnngrade_secret'


class SecretError(ValueError):
    """The course's secret file exists but holds no usable secret."""


def load(root=None):
    """The course secret: ``$RNNGRADE_SECRET``, else the file ``.rnngrade_secret`` in the course
    directory ``root`` (if given), else None. Surrounding whitespace is not part of it."""
    value = os.environ.get(ENV, "").strip()
    if value:
        return value
    if root is None:
        return None
    path = pathlib.Path(root) / FILE
    if not path.exists():
        return None
    try:
        value = path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as exc:
        raise SecretError(f"{path} cannot be read ({exc}): expected one line of text") from None
    if not value:
        raise SecretError(f"{path} is empty: expected one line, the course secret (create one with "
                          f"`{RECIPE}`), or no such file")
    return value


def course_root(start):
    """The course directory holding ``start``: the nearest folder at or above it with an
    ``nbgrader_config.py``, or None."""
    here = pathlib.Path(start).resolve()
    return next((d for d in (here, *here.parents) if (d / "nbgrader_config.py").is_file()), None)


def case_rng(secret, assignment, part, case):
    """The random generator of hidden case number ``case`` of ``part`` of ``assignment``."""
    if secret is None:
        return np.random.default_rng(case)
    key = hmac.digest(secret.encode(), f"{assignment}/{part}/{case}".encode(), "sha256")
    return np.random.default_rng(int.from_bytes(key, "little"))


def fingerprint(secret):
    """Eight hex digits that tell two secrets apart in the instructor's logs, and reveal nothing."""
    return hashlib.sha256(b"rnngrade fingerprint:" + secret.encode()).hexdigest()[:8]
