"""Builds ``bundled/libs``: the paddleport server and its runtime dependencies, for the .vsix.

The extension puts ``bundled/libs`` first on ``PYTHONPATH`` and runs ``<python> -P -m paddleport lsp``
(``paddleport.importStrategy: useBundled``), so the user's interpreter needs no paddleport. libcst (and
PyYAML's optional accelerator) are compiled: the bundle only works with the CPython version and platform it
was built for, written to ``bundled/manifest.json`` and used as the ``vsce package --target``.

    python vscode-client/scripts/bundle_server.py            # this interpreter's packages (offline, fast)
    python vscode-client/scripts/bundle_server.py --platform manylinux_2_28_aarch64 --python-version 3.11 \
        --target linux-arm64                                  # another target: wheels via pip

paddleport itself is copied from this checkout as its wheel lays it out (``server/paddleport`` plus ``rules/``
as ``paddleport/ruledata``, see pyproject.toml). The dependencies come from the running interpreter (the
versions the repository is tested with), or, with ``--platform``, from ``pip install --target --no-deps
--only-binary=:all:`` at those same versions.
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The runtime closure of pyproject's dependencies (libcst, jedi, pygls, lsprotocol).
DEPENDENCIES = [
    "libcst", "PyYAML", "jedi", "parso", "pygls", "lsprotocol", "cattrs", "attrs", "typing_extensions",
]
SKIP_DIRS = {"__pycache__", "tests"}


def host_target() -> str:
    """The vsce target of this machine (linux-x64, darwin-arm64, win32-x64, ...)."""
    systems = {"Linux": "linux", "Darwin": "darwin", "Windows": "win32"}
    system = systems.get(platform.system(), platform.system())
    machine = platform.machine().lower()
    arch = {"x86_64": "x64", "amd64": "x64", "aarch64": "arm64", "arm64": "arm64"}.get(machine, machine)
    return f"{system}-{arch}"


def _ignore(_dir: str, names: list[str]) -> set[str]:
    return {n for n in names if n in SKIP_DIRS or n.endswith(".pyc")}


def copy_paddleport(out: Path) -> None:
    """server/paddleport and rules/ → paddleport/ and paddleport/ruledata/, as in the wheel."""
    shutil.copytree(ROOT / "server" / "paddleport", out / "paddleport", ignore=_ignore)
    shutil.copytree(ROOT / "rules", out / "paddleport" / "ruledata", ignore=_ignore)


def copy_installed(name: str, out: Path) -> str:
    """Copies an installed distribution's files (its RECORD) into ``out``; returns its version."""
    dist = metadata.distribution(name)
    for file in dist.files or []:
        parts = file.parts
        if parts[0] == ".." or any(p in SKIP_DIRS for p in parts) or file.name.endswith(".pyc"):
            continue  # scripts outside site-packages, caches, test suites
        source = Path(str(dist.locate_file(file)))
        if source.is_file():
            dest = out / Path(*parts)
            dest.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest)
    return dist.version


def pip_install(name: str, version: str, out: Path, plat: str, python_version: str) -> None:
    """Installs one wheel for another platform/Python into ``out`` (no dependencies: the list is closed)."""
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--upgrade", "--target", str(out),
         "--only-binary=:all:", "--platform", plat, "--python-version", python_version,
         "--implementation", "cp", f"{name}=={version}"],
        check=True,
    )
    for skipped in [d for d in out.rglob("*") if d.is_dir() and d.name in SKIP_DIRS]:
        shutil.rmtree(skipped, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bundled")
    parser.add_argument("--platform", help="pip platform tag of another target, e.g. manylinux_2_28_aarch64")
    parser.add_argument("--python-version", default=f"{sys.version_info[0]}.{sys.version_info[1]}")
    parser.add_argument("--target", help="vsce target of --platform, e.g. linux-arm64 (default: here)")
    args = parser.parse_args(argv)

    out: Path = args.out
    libs = out / "libs"
    shutil.rmtree(out, ignore_errors=True)
    libs.mkdir(parents=True)
    copy_paddleport(libs)
    versions: dict[str, str] = {}
    for name in DEPENDENCIES:
        version = metadata.version(name)
        if args.platform:
            pip_install(name, version, libs, args.platform, args.python_version)
        else:
            copy_installed(name, libs)
        versions[name] = version
    if (libs / "bin").exists():
        shutil.rmtree(libs / "bin")
    manifest = {
        "target": args.target or host_target(),
        "python": args.python_version,
        "implementation": "cpython",
        "packages": versions,
    }
    (out / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    size = sum(f.stat().st_size for f in libs.rglob("*") if f.is_file())
    built_for = f"CPython {manifest['python']} {manifest['target']}"
    print(f"bundle-server: {libs} ({size / 1e6:.1f} MB) for {built_for}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
