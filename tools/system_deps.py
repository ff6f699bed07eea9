"""Install the system packages that some tests need (Debian), or say loudly what is missing.

- chromium     the browser tests (the book's pages, the feedback pages), driven by Playwright
- bwrap        (package bubblewrap) the grading sandbox
- git          the students' repository (tools/student_repo.py) and its test

As root with apt-get, missing packages are installed (``apt-get update`` once first). Otherwise
a warning names them; the tests that need them then skip with a reason, except under
``RNN_COURSE_STRICT=1`` (set by CI), where they fail.
"""

import os
import shutil
import subprocess
import sys

NEEDED = {"chromium": "chromium", "bwrap": "bubblewrap", "git": "git"}  # command -> Debian package


def main():
    missing = sorted({pkg for cmd, pkg in NEEDED.items() if shutil.which(cmd) is None})
    if not missing:
        return 0
    if os.geteuid() == 0 and shutil.which("apt-get"):
        print(f"installing system packages: {' '.join(missing)}", flush=True)
        env = dict(os.environ, DEBIAN_FRONTEND="noninteractive")
        subprocess.run(["apt-get", "update", "-qq"], check=True, env=env)
        subprocess.run(["apt-get", "install", "-y", "-qq", "--no-install-recommends", *missing],
                       check=True, env=env, stdout=subprocess.DEVNULL)
        return 0
    print(f"WARNING: missing system packages {missing}; install them with "
          f"'sudo apt-get install {' '.join(missing)}'. Tests that need them will skip.",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
