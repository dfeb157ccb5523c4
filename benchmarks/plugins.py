"""Plugins: modules or .py files a sweep config lists, imported so their detectors register.

A plugin is imported in the driver (while its config is read), in every worker and in every
cell's child process, so registering its detectors must be a side effect of importing it.
A file is imported under a name derived from its resolved path, so the same file is imported
once whatever path names it.
"""

from __future__ import annotations

import hashlib
import importlib
import importlib.util
import os
import sys
from pathlib import Path

from benchmarks.errors import ConfigError

__all__ = ["import_plugins", "resolve_plugins"]


def resolve_plugins(plugins, base_dir: str | Path | None = None) -> list[str]:
    """Plugin entries with each file path made absolute (relative: from ``base_dir``).

    A module name stays as it is; an entry ending in ``.py`` or holding a path separator is a
    file. A value that is not a list of strings is a :class:`ConfigError`.
    """
    plugins = plugins or []
    if isinstance(plugins, str):
        plugins = [plugins]
    if not isinstance(plugins, list) or not all(isinstance(p, str) for p in plugins):
        raise ConfigError(f"plugins must be a list of module names or .py paths; got {plugins!r}")
    base = Path(base_dir) if base_dir is not None else None
    resolved = []
    for p in plugins:
        if p.endswith(".py") or os.sep in p:
            path = Path(p) if Path(p).is_absolute() or base is None else base / p
            resolved.append(str(path.resolve()))
        else:
            resolved.append(p)
    return resolved


def import_plugins(plugins, base_dir: str | Path | None = None) -> None:
    """Import each plugin (a module name or a .py file) once, so its registrations run."""
    for plugin in plugins:
        if plugin.endswith(".py") or os.sep in plugin:
            path = Path(plugin)
            if not path.is_absolute() and base_dir is not None:
                path = Path(base_dir) / path
            path = path.resolve()
            if not path.is_file():
                raise ConfigError(f"plugins: file {str(path)!r} not found")
            modname = "pugan_bench_plugin_" + hashlib.sha256(str(path).encode()).hexdigest()[:12]
            if modname in sys.modules:
                continue
            spec = importlib.util.spec_from_file_location(modname, path)
            if spec is None:  # a suffix Python imports nothing from
                raise ConfigError(f"plugins: {str(path)!r} is not a Python file (a plugin file "
                                  "ends in .py; a module is named without a path)")
            # its folder joins the import path, last, so that it imports the modules beside
            # it without shadowing anything installed
            if str(path.parent) not in sys.path:
                sys.path.append(str(path.parent))
            module = importlib.util.module_from_spec(spec)
            sys.modules[modname] = module
            try:
                spec.loader.exec_module(module)
            except Exception as exc:
                del sys.modules[modname]
                raise ConfigError(f"plugins: {str(path)!r} failed to import: "
                                  f"{type(exc).__name__}: {exc}") from exc
        else:
            try:
                importlib.import_module(plugin)
            except ConfigError:
                raise
            except Exception as exc:
                raise ConfigError(f"plugins: cannot import module {plugin!r}: "
                                  f"{type(exc).__name__}: {exc}") from exc
