"""Fill Solara's CDN proxy cache from the npm registry, so Solara apps render offline.

When a page opens, Solara's front-end asks for JavaScript, CSS and fonts under
``/_solara/cdn/<package>@<version>/<file>``. Solara's server answers from its proxy cache
(``solara.server.settings.assets.proxy_cache_dir``, by default ``<sys.prefix>/share/solara/cdn``)
and otherwise fetches the file from a public CDN, which is unreachable on this project's
machines: the page then never renders and the server logs ``Could not load URL``.

The files the CDN serves are those of npm packages, so this module reads which packages and
versions the installed Solara asks for (from its page template and widget sources), downloads
their tarballs from the npm registry (reachable here) and unpacks each into
``<cache>/<package>@<version>/``, the layout Solara's proxy reads. It is idempotent (a
package already unpacked is skipped), atomic (each package is unpacked to a temporary
directory and renamed into place) and checks each tarball against the registry's integrity hash.

Run ``python -m cluster_abm.ui.offline`` (``--check`` only reports, ``--list`` prints the
packages, ``--all`` adds those only rarely used widgets need).
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import io
import json
import os
import re
import shutil
import sys
import tarfile
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from dataclasses import dataclass
from pathlib import Path

__all__ = [
    "CdnCacheError",
    "CdnPackage",
    "cache_dir",
    "ensure_cdn_cache",
    "missing_packages",
    "requested_packages",
]

DEFAULT_REGISTRY = "https://registry.npmjs.org/"
# written into each unpacked package directory once it is complete
MARKER = ".cluster_abm_npm.json"

# Solara sources that name the CDN packages every Solara page (and Mesa's SolaraViz) may load:
# the page template, the grid layout (solara.GridDraggable, used by Mesa's SolaraViz), the
# Markdown component (always loads katex and mermaid), and the Vega-Lite widget
# (solara.FigureAltair, Mesa's altair components). Relative to the solara package.
CORE_SOURCES = (
    "server/templates/solara.html.j2",
    "widgets/vue/gridlayout.vue",
    "widgets/vue/gridlayout_v3.vue",
    "components/markdown.py",
    "widgets/vue/vegalite.vue",
)
# widgets few apps use: FigureEcharts, SqlCode, MarkdownEditor (``--all``)
OPTIONAL_SOURCES = (
    "components/echarts.vue",
    "components/sql_code.vue",
    "components/sql_code_v3.vue",
    "components/markdown_editor.vue",
)

# a CDN url in Solara's sources: {{cdn}}/<pkg>@<version>/...  or  ${this.getCdn()}/<pkg>@<v>/...
_CDN_REF = re.compile(
    r"(?:\{\{\s*cdn\s*\}\}|\$\{\s*this\.getCdn\(\)\s*\})/"
    r"(?P<name>(?:@[a-z0-9][\w.-]*/)?[a-z0-9][\w.-]*?)@(?P<spec>[^/\s\"'`]+)/"
    r"(?P<file>[^\s\"'`{}$]*)"
)
_EXACT = re.compile(r"^\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?$")
_PARTIAL = re.compile(r"^\^?(\d+)(?:\.(\d+))?(?:\.(\d+))?$")


class CdnCacheError(RuntimeError):
    """The cache could not be filled (registry unreachable, bad tarball, ...)."""


@dataclass(frozen=True, order=True)
class CdnPackage:
    """One ``<name>@<spec>`` directory Solara's front-end asks for."""

    name: str  # npm name, e.g. "@widgetti/solara-vuetify-app"
    spec: str  # exact version ("10.1.1") or a range the CDN resolves ("5")

    @property
    def dirname(self) -> str:
        """Directory under the cache, e.g. ``@widgetti/solara-vuetify-app@10.1.1``."""
        return f"{self.name}@{self.spec}"

    def __str__(self) -> str:
        return self.dirname


def _solara_root() -> Path:
    import solara

    return Path(solara.__file__).resolve().parent


def _uses_vue3() -> bool:
    try:
        import ipyvue
    except ImportError:  # pragma: no cover - solara depends on it
        return False
    return str(ipyvue.__version__).startswith("3")


def cache_dir() -> Path:
    """The directory Solara's CDN proxy reads (honours ``SOLARA_ASSETS_PROXY_CACHE_DIR``)."""
    import solara.server.settings as server_settings

    return Path(server_settings.assets.proxy_cache_dir)


def _resolve_template_var(spec: str, text: str) -> str | None:
    """``${version}`` in a .vue file -> the value of ``const version = "5.4.0"`` there."""
    m = re.fullmatch(r"\$\{\s*(\w+)\s*\}", spec)
    if not m:
        return spec if "$" not in spec and "{" not in spec else None
    var = re.search(rf"\b{re.escape(m.group(1))}\s*=\s*[\"']([^\"']+)[\"']", text)
    return var.group(1) if var else None


# (package dir, file) pairs Solara's sources request; a ".min" one the package lacks is made
# from its unminified file after unpacking (the CDN minifies on the fly, e.g.
# requirejs@2.3.6/require.min.js, which Solara's Markdown asks for, is not in the tarball)
_MIN_FALLBACK: set[tuple[str, str]] = set()


def _add_min_fallbacks(pkg: CdnPackage, dest: Path) -> list[str]:
    made = []
    for dirname, rel in sorted(_MIN_FALLBACK):
        if dirname != pkg.dirname or ".min." not in rel:
            continue
        want, src = dest / rel, dest / rel.replace(".min.", ".", 1)
        if not want.exists() and src.is_file():
            shutil.copyfile(src, want)
            made.append(rel)
    return made


def _is_unused_variant(root: Path, rel: str, vue3: bool) -> bool:
    """``x.vue`` (ipyvue 2) and ``x_v3.vue`` (ipyvue 3): true for the one not in use."""
    if rel.endswith("_v3.vue"):
        return not vue3
    if rel.endswith(".vue") and (root / rel.replace(".vue", "_v3.vue")).exists():
        return vue3
    return False


def requested_packages(include_optional: bool = False) -> list[CdnPackage]:
    """The CDN packages (and versions) the installed Solara's front-end requests."""
    root = _solara_root()
    vue3 = _uses_vue3()
    sources = CORE_SOURCES + (OPTIONAL_SOURCES if include_optional else ())
    found: set[CdnPackage] = set()
    for rel in sources:
        if _is_unused_variant(root, rel, vue3):
            continue
        path = root / rel
        if not path.exists():
            continue
        text = path.read_text(encoding="utf-8", errors="replace")
        for m in _CDN_REF.finditer(text):
            name, spec = m.group("name"), _resolve_template_var(m.group("spec"), text)
            if spec is None:
                continue
            # the page template names both front-end bundles and picks one by ipyvue version
            if name == "@widgetti/solara-vuetify3-app" and not vue3:
                continue
            if name == "@widgetti/solara-vuetify-app" and vue3:
                continue
            found.add(CdnPackage(name, spec))
            if m.group("file"):
                _MIN_FALLBACK.add((f"{name}@{spec}", m.group("file")))

    import solara.server.settings as server_settings

    if server_settings.assets.fontawesome_enabled:
        first = server_settings.assets.fontawesome_path.strip("/").split("/")[0]
        name, _, spec = first.rpartition("@")
        if name and spec:
            found.add(CdnPackage(name, spec))
    if not found:
        raise CdnCacheError(f"found no CDN package references in solara's sources under {root}")
    return sorted(found)


def _is_complete(target: Path) -> bool:
    return (target / MARKER).is_file()


def missing_packages(
    packages: list[CdnPackage] | None = None, cache: Path | None = None
) -> list[CdnPackage]:
    """Packages not yet (completely) unpacked in the cache; no network access."""
    packages = requested_packages() if packages is None else packages
    cache = cache_dir() if cache is None else cache
    return [p for p in packages if not _is_complete(cache / p.dirname)]


def _registry() -> str:
    # npm's own setting, so a mirror configured for npm is used here too
    names = ("npm_config_registry", "NPM_CONFIG_REGISTRY")
    url = next((os.environ[n] for n in names if os.environ.get(n)), DEFAULT_REGISTRY)
    return url if url.endswith("/") else url + "/"


def _fetch(url: str, *, accept: str | None = None, timeout: float = 60.0, tries: int = 3) -> bytes:
    headers = {"User-Agent": "cluster_abm-offline/1 (python urllib)"}
    if accept:
        headers["Accept"] = accept
    last: Exception | None = None
    for attempt in range(tries):
        if attempt:
            time.sleep(2**attempt)
        try:
            with urllib.request.urlopen(
                urllib.request.Request(url, headers=headers), timeout=timeout
            ) as r:
                return r.read()
        except urllib.error.HTTPError as e:
            if 400 <= e.code < 500 and e.code != 429:
                raise CdnCacheError(f"npm registry answered {e.code} {e.reason} for {url}") from e
            last = e
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as e:
            last = e
    reason = getattr(last, "reason", None) or last
    raise CdnCacheError(f"cannot reach the npm registry for {url} ({reason})") from last


def _version_key(version: str) -> tuple[int, ...]:
    return tuple(int(x) for x in version.split("+")[0].split("-")[0].split("."))


def _resolve(pkg: CdnPackage, registry: str) -> tuple[str, dict]:
    """(exact version, its ``dist`` record) for a package spec, from the registry."""
    quoted = urllib.parse.quote(pkg.name, safe="@")  # @scope/name -> @scope%2Fname
    if _EXACT.match(pkg.spec):
        doc = json.loads(_fetch(f"{registry}{quoted}/{pkg.spec}"))
        return doc["version"], doc["dist"]
    m = _PARTIAL.match(pkg.spec)
    if not m:
        raise CdnCacheError(f"unsupported version range {pkg.spec!r} for {pkg.name}")
    wanted = [int(g) for g in m.groups() if g is not None]
    caret = pkg.spec.startswith("^")
    packument = json.loads(
        _fetch(f"{registry}{quoted}", accept="application/vnd.npm.install-v1+json")
    )
    candidates = []
    for version, doc in packument.get("versions", {}).items():
        if not re.fullmatch(r"\d+\.\d+\.\d+", version):
            continue  # like the CDN, a range never resolves to a pre-release
        key = _version_key(version)
        if caret:  # ^5.2 -> >=5.2.0 <6
            ok = key[0] == wanted[0] and key >= tuple(wanted)
        else:  # 5 -> 5.x.x, 5.2 -> 5.2.x (how the CDN resolves a partial version)
            ok = key[: len(wanted)] == tuple(wanted)
        if ok:
            candidates.append((key, version, doc["dist"]))
    if not candidates:
        raise CdnCacheError(f"no version of {pkg.name} on the registry matches {pkg.spec!r}")
    _, version, dist = max(candidates)
    return version, dist


def _verify(data: bytes, dist: dict, url: str) -> None:
    integrity = dist.get("integrity")
    if integrity:
        for item in integrity.split():
            algo, _, b64 = item.partition("-")
            if algo in ("sha512", "sha384", "sha256"):
                if hashlib.new(algo, data).digest() != base64.b64decode(b64):
                    raise CdnCacheError(f"integrity mismatch ({algo}) for {url}")
                return
    shasum = dist.get("shasum")
    if shasum and hashlib.sha1(data).hexdigest() != shasum:
        raise CdnCacheError(f"sha1 mismatch for {url}")


def _unpack(data: bytes, dest: Path) -> int:
    """Unpack an npm tarball into ``dest``, dropping its top directory (``package/``)."""
    count = 0
    with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as tar:
        for member in tar.getmembers():
            parts = Path(member.name).parts
            if len(parts) < 2 or not (member.isfile() or member.isdir()):
                continue  # the top directory itself, links, devices
            member.name = str(Path(*parts[1:]))
            if ".." in Path(member.name).parts:
                raise CdnCacheError(f"unsafe path in npm tarball: {member.name!r}")
            if hasattr(tarfile, "data_filter"):  # Python >= 3.11.4
                tar.extract(member, dest, filter="data")
            else:  # pragma: no cover
                tar.extract(member, dest)
            count += member.isfile()
    return count


def _install(pkg: CdnPackage, cache: Path, registry: str, verbose: bool) -> Path:
    target = cache / pkg.dirname
    t0 = time.monotonic()
    version, dist = _resolve(pkg, registry)
    url = dist["tarball"]
    data = _fetch(url)
    _verify(data, dist, url)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent))
    try:
        nfiles = _unpack(data, tmp)
        made = _add_min_fallbacks(pkg, tmp)
        (tmp / MARKER).write_text(
            json.dumps({"name": pkg.name, "spec": pkg.spec, "version": version, "tarball": url})
            + "\n"
        )
        tmp.chmod(0o755)
        old = None
        if target.exists():  # e.g. a few files Solara's proxy cached on its own while online
            old = target.parent / f".{target.name}.{os.getpid()}.old"
            os.rename(target, old)
        try:
            os.rename(tmp, target)
        except OSError:
            if not _is_complete(target):  # not a concurrent run that finished first
                raise
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if tmp.exists():
            shutil.rmtree(tmp, ignore_errors=True)
    if verbose:
        resolved = "" if version == pkg.spec else f" (= {version})"
        print(
            f"cdn-cache: {pkg.dirname}{resolved}: {len(data) / 1e6:.1f} MB tarball, "
            f"{nfiles} files, {time.monotonic() - t0:.1f}s"
            + (f" (made {', '.join(made)} from the unminified files)" if made else "")
        )
    return target


def ensure_cdn_cache(verbose: bool = True, include_optional: bool = False) -> list[Path]:
    """Make sure every CDN package the installed Solara requests is in its proxy cache.

    Returns the package directories (already present or newly unpacked). Raises
    :class:`CdnCacheError` with a one-line message when the registry cannot be reached.
    """
    cache = cache_dir()
    packages = requested_packages(include_optional=include_optional)
    registry = _registry()
    try:
        cache.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise CdnCacheError(f"cannot create Solara's CDN cache directory {cache}: {e}") from e
    paths = []
    for pkg in packages:
        target = cache / pkg.dirname
        if _is_complete(target):
            if verbose:
                print(f"cdn-cache: {pkg.dirname}: present")
        else:
            target = _install(pkg, cache, registry, verbose)
        paths.append(target)
    if verbose:
        print(f"cdn-cache: {len(paths)} packages in {cache}")
    return paths


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m cluster_abm.ui.offline",
        description="Fill Solara's CDN proxy cache from the npm registry (for offline use).",
    )
    parser.add_argument("--check", action="store_true", help="only report missing packages")
    parser.add_argument("--list", action="store_true", help="print the packages and cache path")
    parser.add_argument(
        "--all", action="store_true", help="also packages of rarely used widgets (echarts, ...)"
    )
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    try:
        if args.list or args.check:
            packages = requested_packages(include_optional=args.all)
            missing = missing_packages(packages)
            if args.list:
                print(f"cache: {cache_dir()}")
                for p in packages:
                    print(f"{p.dirname}{'  (missing)' if p in missing else ''}")
            if args.check and missing:
                print(
                    "cdn-cache: missing "
                    + ", ".join(map(str, missing))
                    + ": run python -m cluster_abm.ui.offline",
                    file=sys.stderr,
                )
                return 1
            return 0
        ensure_cdn_cache(verbose=not args.quiet, include_optional=args.all)
    except CdnCacheError as e:
        print(f"cdn-cache: error: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
