#!/usr/bin/env python3
"""Quickstart on a fresh machine: get uv and just if missing, then run ``just <recipe>``.

``python3 dev.py serve`` and ``python3 dev.py test`` work even where pip puts the
tools in a directory that is not on PATH (pyenv shims, ``pip --user``).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig

TOOLS = {"uv": "uv", "just": "rust-just"}


def _candidates() -> list[str]:
    dirs = [os.path.dirname(sys.executable), sysconfig.get_path("scripts")]
    user_scheme = f"{os.name}_user"
    if user_scheme in sysconfig.get_scheme_names():
        dirs.append(sysconfig.get_path("scripts", user_scheme))
    dirs.append(os.path.expanduser("~/.local/bin"))
    return [d for d in dict.fromkeys(dirs) if d]


def _find(name: str) -> str | None:
    for directory in _candidates():
        path = os.path.join(directory, name)
        if os.path.isfile(path) and os.access(path, os.X_OK):
            return path
    return shutil.which(name)


def _install(packages: list[str]) -> None:
    base = [sys.executable, "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    if subprocess.call([*base, *packages]) != 0:
        subprocess.check_call([*base, "--user", *packages])


def main() -> int:
    missing = [pkg for name, pkg in TOOLS.items() if _find(name) is None]
    if missing:
        print(f"dev.py: installing {' '.join(missing)}", file=sys.stderr)
        _install(missing)
    found = {name: _find(name) for name in TOOLS}
    if None in found.values():
        print("dev.py: uv or just is still not found after installing", file=sys.stderr)
        return 1
    env = dict(os.environ)
    tool_dirs = [os.path.dirname(p) for p in found.values() if p]
    env["PATH"] = os.pathsep.join([*dict.fromkeys(tool_dirs), env.get("PATH", "")])
    just = found["just"]
    assert just is not None
    return subprocess.call([just, *(sys.argv[1:] or ["--list"])], env=env)


if __name__ == "__main__":
    sys.exit(main())
