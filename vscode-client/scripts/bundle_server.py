"""Builds ``bundled/``: the paddleport server and its runtime dependencies, for the .vsix.

The extension puts ``bundled/libs`` first on ``PYTHONPATH`` and runs ``<python> -P -m paddleport lsp``
(``paddleport.importStrategy: useBundled``), so the user's interpreter needs no paddleport. libcst is
compiled: the bundle works on one platform (the ``vsce package --target``) and with the CPython versions
whose libcst parser it holds (``--also-python`` adds them). Both go to ``bundled/manifest.json``.

    python vscode-client/scripts/bundle_server.py --also-python 3.12 3.13 3.14   # this machine (offline
                                                  # but for the extra libcst wheels)
    python vscode-client/scripts/bundle_server.py --platform manylinux_2_28_aarch64 --python-version 3.11 \
        --also-python 3.12 3.13 3.14 --target linux-arm64                         # another target, via pip

paddleport itself is copied from this checkout as its wheel lays it out (``server/paddleport`` plus ``rules/``
as ``paddleport/ruledata``, see pyproject.toml). The dependencies come from the running interpreter (the
versions the repository is tested with), or, with ``--platform``, from ``pip install --target --no-deps
--only-binary=:all:`` at those same versions. PyYAML's accelerator is optional (yaml falls back to Python).
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import subprocess
import sys
import tempfile
import zipfile
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# The runtime closure of pyproject's dependencies (libcst, jedi, pygls, lsprotocol).
DEPENDENCIES = [
    "libcst", "PyYAML", "jedi", "parso", "pygls", "lsprotocol", "cattrs", "attrs", "typing_extensions",
]
SKIP_DIRS = {"__pycache__", "tests"}
# typeshed's third-party stubs (4300 of jedi's 5600 files: requests, six, ...) do not help find torch uses;
# jedi skips a missing stubs folder. Without them the .vsix has ~1750 files instead of ~6000.
SKIP_PATHS = [Path("jedi", "third_party", "typeshed", "stubs")]
# Compiled modules the server cannot do without (PyYAML's _yaml is optional: yaml falls back to Python).
COMPILED = ["libcst"]


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
        skipped = any(Path(*parts[: len(p.parts)]) == p for p in SKIP_PATHS)
        if parts[0] == ".." or skipped or any(p in SKIP_DIRS for p in parts) or file.name.endswith(".pyc"):
            continue  # scripts outside site-packages, caches, test suites, unused stubs
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
    for path in SKIP_PATHS:
        shutil.rmtree(out / path, ignore_errors=True)


def add_python_versions(libs: Path, versions: list[str], plat: str | None) -> list[str]:
    """Adds the compiled modules of ``COMPILED`` for more CPython versions next to the first one's.

    The pure-Python part of a wheel is the same for every version; only the extension modules
    (``native.cpython-312-x86_64-linux-gnu.so``, ...) differ, and their names do not collide. Returns the
    versions added; one whose wheel cannot be fetched (offline, none published) is left out with a warning.
    """
    added: list[str] = []
    platform_args = ["--platform", plat] if plat else []
    for version in versions:
        with tempfile.TemporaryDirectory() as tmp:
            ok = True
            for name in COMPILED:
                done = subprocess.run(
                    [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--only-binary=:all:",
                     "--python-version", version, "--implementation", "cp", *platform_args, "-d", tmp,
                     f"{name}=={metadata.version(name)}"],
                    check=False,
                )
                ok = ok and done.returncode == 0
            if not ok:
                print(f"bundle-server: WARNING: no wheels for CPython {version}: not supported")
                continue
            for wheel in Path(tmp).glob("*.whl"):
                with zipfile.ZipFile(wheel) as archive:
                    for member in archive.namelist():
                        if member.endswith((".so", ".pyd")) and ".dist-info/" not in member:
                            archive.extract(member, libs)
            added.append(version)
    return added


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--out", type=Path, default=ROOT / "bundled")
    parser.add_argument("--platform", help="pip platform tag of another target, e.g. manylinux_2_28_aarch64")
    parser.add_argument("--python-version", default=f"{sys.version_info[0]}.{sys.version_info[1]}")
    parser.add_argument(
        "--also-python", nargs="*", default=[], metavar="X.Y",
        help="more CPython versions to support (their libcst wheels are fetched with pip)",
    )
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
    also = [v for v in args.also_python if v != args.python_version]
    pythons = [args.python_version, *add_python_versions(libs, also, args.platform)]
    manifest = {
        "target": args.target or host_target(),
        "python": ", ".join(pythons),
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
