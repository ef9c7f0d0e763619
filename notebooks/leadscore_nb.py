"""What every notebook shares: where the bundled data and the leadscore binary are, a
scratch folder for what the notebooks write, and leadscore run as the command line it
is (the notebooks use no private API, only what a user's script would).

The binary is `$LEADSCORE_BIN` when set (the test suite sets it), else a built
`target/release/leadscore` or `target/debug/leadscore`, else `leadscore` on the PATH,
else `cargo run --release`.
"""

import os
import pathlib
import shlex
import shutil
import subprocess
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
DATA = ROOT / "data"
LEADS = DATA / "leads.csv"
INTERACTIONS = DATA / "interactions.csv"
OUTCOMES = DATA / "outcomes.csv"
POINTS = DATA / "points.toml"

# Where the notebooks write (models, scores, reports): one folder per session unless
# `$LEADSCORE_NOTEBOOK_WORK` names one.
WORK = pathlib.Path(os.environ.get("LEADSCORE_NOTEBOOK_WORK") or tempfile.mkdtemp(prefix="leadscore-nb-"))
WORK.mkdir(parents=True, exist_ok=True)


def binary() -> list:
    """The command that runs leadscore."""
    if os.environ.get("LEADSCORE_BIN"):
        return [os.environ["LEADSCORE_BIN"]]
    for build in ("release", "debug"):
        built = ROOT / "target" / build / "leadscore"
        if built.exists():
            return [str(built)]
    if shutil.which("leadscore"):
        return ["leadscore"]
    return ["cargo", "run", "--quiet", "--release", "--manifest-path", str(ROOT / "Cargo.toml"), "--"]


def leadscore(*args, ok=(0,)) -> subprocess.CompletedProcess:
    """Runs `leadscore ARGS...` and returns it (stdout and stderr as text). An exit
    status outside `ok` raises, with what leadscore said."""
    command = binary() + [str(a) for a in args]
    done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
    if done.returncode not in ok:
        raise RuntimeError(
            f"`{shlex.join(command)}` exited {done.returncode}:\n{done.stderr[-3000:]}"
        )
    return done


def work(name: str) -> pathlib.Path:
    """A path in the scratch folder (its parent folder created)."""
    path = WORK / name
    path.parent.mkdir(parents=True, exist_ok=True)
    return path
