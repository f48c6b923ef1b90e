"""Standard-library modules held out of the embedded model's training.

The embedded default model (``model/sc2-mini``) is trained on CPython's own
standard library, the only code on these machines we may train on (PSF
licence).  To measure it on code of the *training distribution* that it has
*never seen*, ``model/train.py`` leaves these files out, and the quality
bench builds its ``stdlib-sl`` task set from exactly these files of the local
stdlib (``sysconfig.get_paths()["stdlib"]``).  One list serves both sides so
they cannot drift apart: change it and the model must be retrained.

The modules are ordinary, readable pure-Python code of mixed size (from
``secrets.py``'s 2 kB to ``difflib.py``'s 80 kB); none is generated code or a
data table.  Paths are relative to the stdlib root, with "/" separators.
"""

STDLIB_HOLDOUT: tuple[str, ...] = (
    "bisect.py",
    "calendar.py",
    "cmd.py",
    "colorsys.py",
    "difflib.py",
    "filecmp.py",
    "fnmatch.py",
    "fractions.py",
    "getopt.py",
    "glob.py",
    "graphlib.py",
    "heapq.py",
    "linecache.py",
    "netrc.py",
    "queue.py",
    "reprlib.py",
    "sched.py",
    "secrets.py",
    "shlex.py",
    "string.py",
    "tabnanny.py",
    "textwrap.py",
)
