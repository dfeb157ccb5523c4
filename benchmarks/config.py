"""Sweep configuration: a YAML file -> a validated :class:`SweepConfig` -> frozen :class:`Cell` s.

A sweep is datasets x detectors x anomaly ratios x labelled fractions x seeds. Everything is
checked before any cell runs, and every error names the key and what was expected. This module
parses and validates; a cell's identity and key are :mod:`benchmarks.cells`, the code
fingerprint in that key :mod:`benchmarks.fingerprint`, and plugin imports
:mod:`benchmarks.plugins`. ``code_fingerprint`` and ``code_version`` are importable from here
too, as they were before those modules existed.

Format (see docs/harness.md for the full reference)::

    name: paper                       # optional; default: the file's stem
    seeds: [0, 1, 2]                  # or an integer n, meaning 0 .. n-1
    anomaly_ratios: [0.05, 0.2]       # the axes, for dataset entries that are not presets
    labelled_fractions: [0.2]
    n_jobs: 2                         # default for --n-jobs
    time_limit: 1800                  # seconds per cell process (start-up, fit, score); null = none
    plugins: [my_detectors.py]        # modules or .py files imported first (they may register
                                      # detectors); relative paths are taken from the config's folder
    datasets:
      - moons-paper                   # a preset: it fixes its own ratio and fraction
      - preset: kddcup99-low
        label: kdd-low-20k            # optional display name (default: the preset name)
        split: {n_normal: 20000}      # overrides of the preset's split arguments
      - dataset: moons                # a dataset by name: crossed with the ratio/fraction axes
        split: {n_normal: 5000}       # make_pu_split keyword arguments
        dataset_params: {noise: 0.1}  # loader keyword arguments
        anomaly_ratios: [0.5]         # optional per-entry axes, replacing the global ones
      - dataset: file:data/mine.csv   # a user's file (relative: from the config's folder)
        dataset_params: {label_column: y, anomaly_values: [1]}
    detectors:
      - iforest                       # a registry name
      - name: ocsvm-normals
        params: {nu: 0.05}
        label: ocsvm-nu0.05           # optional (default: name, plus params when there are any)
        test_params: true             # merge the registry's tiny test parameters under params
      - name: knn-normals
        params: {n_neighbors: [1, 5, 20]}   # a list is a grid: one entry per value (per
                                            # combination when several params are lists)
      - name: iforest
        tuned: true                   # params per dataset from the tuning file (below)
    tuning: tuning/paper.yaml         # written by `pugan-bench tune`; relative to the config
                                      # (or a list of such files, each tuning other datasets)

A detector entry with ``tuned: true`` takes its parameters, dataset by dataset, from the
``choices`` of the tuning file (:mod:`benchmarks.tuning`), keyed by the dataset label and the
entry's registry name (``tuned: <key>`` names another key). ``params`` given beside it lie
over the choice and win where both set a parameter (a smoke config may shrink a tuned model;
the entry then runs that value, not the chosen one); ``test_params`` lie under it.

A preset (``benchmarks.splits.PRESETS``) carries its anomaly ratio and labelled fraction, so the
ratio/fraction axes do not apply to it; use ``dataset:`` with axes to vary them.
"""

from __future__ import annotations

import copy
import inspect
import math
import re
import types
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from benchmarks.cells import Cell, canonical_json, code_version
from benchmarks.errors import ConfigError
from benchmarks.fingerprint import code_fingerprint
from benchmarks.plugins import import_plugins, resolve_plugins
from benchmarks.seeds import MAX_SEED, MAX_SEEDS
from benchmarks.yamlfile import read_yaml_file

__all__ = [
    "ConfigError",
    "DatasetEntry",
    "DetectorEntry",
    "SweepConfig",
    "check_n_jobs",
    "code_fingerprint",
    "code_version",
    "count_cells",
    "expand_cells",
    "load_config",
    "parse_config",
]

TOP_KEYS = {"name", "description", "datasets", "detectors", "anomaly_ratios",
            "labelled_fractions", "seeds", "n_jobs", "time_limit", "plugins", "tuning"}
DATASET_KEYS = {"preset", "dataset", "label", "split", "dataset_params", "anomaly_ratios",
                "labelled_fractions"}
DETECTOR_KEYS = {"name", "params", "label", "test_params", "tuned"}
# split arguments that a config may set (the axes and the seed come from the sweep)
_AXIS_ARGS = {"dataset", "anomaly_ratio", "labelled_fraction", "seed"}


#: the most cells a config may describe (a typo such as ``seeds: 1000000000`` must fail at
#: once, not after minutes spent building cells or a MemoryError); the seed bounds, MAX_SEEDS
#: and MAX_SEED, are :mod:`benchmarks.seeds`', which every seed list is held to
MAX_CELLS = 1_000_000
#: the longest time limit a cell may have, in seconds: the isolated cell's wait
#: (``multiprocessing.Connection.poll``) takes milliseconds as a C int, so a longer limit is
#: an OverflowError in every cell; 2,147,483 s is almost 25 days
MAX_TIME_LIMIT = 2_147_483


@dataclass(frozen=True)
class DatasetEntry:
    """One resolved dataset entry: loader name, loader params, split params, its axes."""

    label: str
    dataset: str
    preset: str | None
    split: dict = field(hash=False)
    dataset_params: dict = field(hash=False)
    anomaly_ratios: tuple[float, ...]
    labelled_fractions: tuple[float, ...]


@dataclass(frozen=True)
class DetectorEntry:
    """One detector setting. ``group`` is the config entry it came from (a grid's points share
    it); ``per_dataset`` maps a dataset label to the tuned params used on that dataset, and
    ``overrides`` holds what a tuned entry's config set over the choice (its own ``params``,
    without the registry's ``test_params``, which the choice lies over)."""

    label: str
    name: str
    params: dict = field(hash=False)
    fingerprint: str = ""   # code_fingerprint of the detector (part of its cells' keys)
    group: str = ""
    per_dataset: dict = field(default_factory=dict, hash=False)
    overrides: dict = field(default_factory=dict, hash=False)

    def params_for(self, dataset_label: str) -> dict:
        return self.per_dataset.get(dataset_label, self.params)


@dataclass(frozen=True)
class SweepConfig:
    name: str
    datasets: tuple[DatasetEntry, ...]
    detectors: tuple[DetectorEntry, ...]
    seeds: tuple[int, ...]
    n_jobs: int = 1
    time_limit: float | None = None
    plugins: tuple[str, ...] = ()
    description: str = ""
    source: str | None = None
    tuning: tuple[str, ...] | None = None   # the tuning file(s) that ``tuned`` entries read

    def cells(self) -> list[Cell]:
        return expand_cells(self)


# --- checks shared by the parsers ---------------------------------------------------------------

def _key_list(keys) -> list:
    """Keys in a stable order for a message, whatever their types: YAML reads ``on``,
    ``yes``, ``null`` or a number written as a key as a bool, None or a number, and sorting
    those beside strings would raise instead of naming them."""
    return sorted(keys, key=repr)


def _non_string_hint(keys) -> str:
    odd = [k for k in keys if not isinstance(k, str)]
    return (f" ({', '.join(map(repr, odd))}: YAML reads on / off / yes / no / null and numbers "
            "as values, not names; quote such a key)" if odd else "")


def _check_keys(obj: dict, allowed: set, where: str) -> None:
    unknown = _key_list(set(obj) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {unknown}; allowed keys: {sorted(allowed)}"
                          + _non_string_hint(unknown))


def _axis(values, key: str, where: str, *, allow_one: bool) -> tuple[float, ...]:
    if not isinstance(values, list | tuple):
        values = [values]
    if len(values) == 0:
        raise ConfigError(f"{where}: {key} is empty; give at least one value")
    out = []
    interval = "(0, 1]" if allow_one else "(0, 1)"
    for v in values:
        if isinstance(v, bool) or not isinstance(v, int | float):
            raise ConfigError(f"{where}: {key} must hold numbers in {interval}; got {v!r}")
        ok = 0 < v <= 1 if allow_one else 0 < v < 1
        if not ok or not math.isfinite(v):
            raise ConfigError(f"{where}: every value of {key} must be in {interval}; got {v!r}")
        out.append(float(v))
    if len(set(out)) != len(out):
        raise ConfigError(f"{where}: {key} has duplicate values {out}")
    return tuple(out)


def _seeds(value) -> tuple[int, ...]:
    if isinstance(value, bool):
        raise ConfigError(f"seeds must be a list of non-negative integers or a count; got {value!r}")
    if isinstance(value, int):
        if value < 1:
            raise ConfigError(f"seeds: a count must be >= 1; got {value}")
        if value > MAX_SEEDS:
            raise ConfigError(f"seeds: a count of {value} is more than {MAX_SEEDS}; a sweep "
                              "that large is almost certainly a typo")
        return tuple(range(value))
    if not isinstance(value, list | tuple) or not value:
        raise ConfigError(f"seeds must be a non-empty list of non-negative integers or a count "
                          f"(e.g. 3 for 0, 1, 2); got {value!r}")
    if len(value) > MAX_SEEDS:
        raise ConfigError(f"seeds: {len(value)} seeds is more than {MAX_SEEDS}")
    for s in value:
        if isinstance(s, bool) or not isinstance(s, int) or s < 0:
            raise ConfigError(f"seeds must be non-negative integers; got {s!r}")
        if s > MAX_SEED:
            raise ConfigError(f"seeds must be at most {MAX_SEED} (2**32 - 1, the largest numpy "
                              f"seed); got {s}")
    if len(set(value)) != len(value):
        raise ConfigError(f"seeds has duplicate values {list(value)}")
    return tuple(value)


def _mapping(value, key: str, where: str) -> dict:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: {key} must be a mapping of keyword arguments; got {value!r}")
    return dict(value)


def _split_arg_names() -> set[str]:
    from benchmarks.splits import make_pu_split

    return set(inspect.signature(make_pu_split).parameters) - _AXIS_ARGS - {"dataset_params"}


def _bundled_adbench_name(name: str) -> str | None:
    """The registered name (``adbench:cardio``) of a bundled ADBench file named any way its
    loader takes (any case, or the file's full stem ``adbench:6_cardio``), else None."""
    if not name.lower().startswith("adbench:"):
        return None
    from benchmarks.datasets.adbench import BUNDLED_ADBENCH
    from benchmarks.datasets.adbench import _short as short_name  # the loader's own rule

    want = name.split(":", 1)[1].lower()
    for stem in BUNDLED_ADBENCH:
        if want in (stem.lower(), short_name(stem).lower()):
            return f"adbench:{short_name(stem)}"
    return None


def _check_dataset_name(name: str, params: dict, where: str, base_dir: Path | None) -> tuple[str, dict]:
    """Validate a loader name; resolve a relative user file path. Returns (name, params)."""
    from benchmarks.datasets import available_datasets

    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: dataset must be a non-empty string; got {name!r}")
    known = available_datasets()
    if name in known:
        return name, _known_loader_file(name, params, where, base_dir)
    bundled = _bundled_adbench_name(name)
    if bundled is not None:  # one name per file, so its cells keep one cache key
        return bundled, params
    if name.startswith("file:") or name == "file" or name == "adbench":
        raw = name.split(":", 1)[1] if ":" in name else params.get("path")
        if raw is not None and not isinstance(raw, str):
            raise ConfigError(f"{where}: dataset_params path must be a string (a file's "
                              f"path); got {raw!r}")
        if not raw:
            raise ConfigError(f"{where}: dataset {name!r} needs a path (file:<path> or "
                              "dataset_params: {path: ...})")
        path = _data_file(raw, where, base_dir)
        if name == "adbench" or path.suffix == ".npz":
            _check_npz(path, where)
        params = {**params, "sha256": _content_digest(path, params.get("sha256"), where)}
        if name.startswith("file:"):
            return f"file:{path}", params
        return name, {**params, "path": str(path)}
    from benchmarks.splits import PRESETS

    raise ConfigError(
        f"{where}: unknown dataset {name!r}; known datasets: {', '.join(known)}, "
        f"'file:<path>' for a user's CSV/Parquet/NPZ; presets (use 'preset:'): "
        f"{', '.join(PRESETS)}"
    )


def _data_file(raw: str, where: str, base_dir: Path | None) -> Path:
    """A data file named in a config, resolved: a relative path is taken from the config's
    folder only (never from where a worker happens to run), and a missing file is named."""
    path = Path(raw)
    if not path.is_absolute() and base_dir is not None:
        path = base_dir / path
    if not path.is_file():
        raise ConfigError(f"{where}: data file {raw!r} not found (looked for {str(path)!r}; a "
                          "relative path is taken from the config's folder)")
    return path.resolve()


def _known_loader_file(name: str, params: dict, where: str, base_dir: Path | None) -> dict:
    """A bundled loader's parameters, with a file it is pointed at resolved and its digest
    added, as a user's file gets: the cells' key then follows the file's content, not its
    name. ``kddcup99`` with ``full: true`` needs that file: elsewhere the rows would come from
    an environment variable or a download, which no key records."""
    raw = params.get("path")
    if raw is not None and not isinstance(raw, str):
        raise ConfigError(f"{where}: dataset_params path must be a string (a file's path); "
                          f"got {raw!r}")
    if name == "kddcup99" and params.get("full") and not raw:
        raise ConfigError(f"{where}: kddcup99 with full: true needs dataset_params path (the "
                          "full file), so that its content is part of the cells' key")
    loader, fixed = _loader(name)
    accepts = set(inspect.signature(loader).parameters) - fixed
    if not raw or "path" not in accepts:  # a path it does not take is named as unknown later
        return params
    path = _data_file(raw, where, base_dir)
    params = {**params, "path": str(path)}
    if "sha256" in accepts:
        params["sha256"] = _content_digest(path, params.get("sha256"), where)
    return params


def _content_digest(path: Path, expected, where: str) -> str:
    """The file's SHA-256 (lower case), checked against ``expected`` when given.

    It becomes the entry's ``sha256`` loader parameter, so a cell's cache key follows the
    file's content: replacing the file reruns its cells, and a file changed after the config
    was read fails its checksum rather than feeding stale numbers.
    """
    from benchmarks.datasets.core import sha256_of

    digest = sha256_of(path)
    if expected is not None:
        if not isinstance(expected, str) or expected.strip().lower() != digest:
            raise ConfigError(f"{where}: data file {str(path)!r} has sha256 {digest}, not the "
                              f"expected {expected!r}")
    return digest


#: how every zip archive, and so every .npz, begins (an empty archive: the second); numpy reads
#: any other file as a pickle and refuses it with a message about pickled data
_ZIP_MAGIC = (b"PK\x03\x04", b"PK\x05\x06")


def _check_npz(path: Path, where: str) -> None:
    """A file read as .npz must be a zip archive: say so now, naming the file, rather than let
    the loader fail in every cell with numpy's message about pickled data."""
    with path.open("rb") as f:
        head = f.read(4)
    if not head.startswith(_ZIP_MAGIC):
        raise ConfigError(f"{where}: data file {str(path)!r} is not an .npz archive (an .npz "
                          f"is a zip file, starting with b'PK'; this one starts with {head!r})")


def _loader(name: str):
    """The loader function behind dataset ``name`` and the parameters the name fixes."""
    if name == "moons":
        from benchmarks.datasets.moons import load_moons

        return load_moons, set()
    if name == "kddcup99":
        from benchmarks.datasets.kddcup99 import load_kddcup99

        return load_kddcup99, set()
    if name == "adbench" or name.startswith("adbench:"):
        from benchmarks.datasets.adbench import load_adbench

        return load_adbench, {"stem"}
    from benchmarks.datasets.userfile import load_file

    return load_file, {"path"} if name.startswith("file:") else set()


#: what a YAML value must be for a loader parameter of each kind (see :func:`_value_kind`)
_KIND_TEXT = {"list": "a list such as [a, b]", "int": "an integer", "number": "a number",
              "bool": "true or false"}


def _value_kind(annotation) -> str | None:
    """The kind of YAML value a loader parameter annotated ``annotation`` takes: ``"list"``
    (only sequences, and not ``str``: a string would be read letter by letter), ``"int"``,
    ``"number"``, ``"bool"``; None when the annotation admits other values too (a path, a
    label that may be text or a number), which are then left to the loader. ``None`` in the
    annotation is ignored here; :func:`_check_dataset_params` accepts null for it."""
    union = typing.get_origin(annotation) in (typing.Union, types.UnionType)
    members = {typing.get_origin(m) or m for m in (typing.get_args(annotation) if union
                                                     else (annotation,))} - {type(None)}
    if members and str not in members and all(
            isinstance(m, type) and issubclass(m, Sequence) for m in members):
        return "list"
    for kind, types_ in (("int", {int}), ("bool", {bool}), ("number", {float}),
                         ("number", {int, float})):
        if members == types_:
            return kind
    return None


def _fits_kind(value, kind: str) -> bool:
    """Whether a YAML value is of ``kind``; a bool is no number (YAML reads ``yes`` as true)."""
    if kind == "list":
        return isinstance(value, list | tuple)
    if kind == "bool":
        return isinstance(value, bool)
    wanted = int if kind == "int" else int | float
    return isinstance(value, wanted) and not isinstance(value, bool)


def _check_dataset_params(name: str, params: dict, where: str) -> None:
    """Unknown loader parameters, and values of the wrong kind, are an error now, not in every
    cell later. The kind comes from the loader's annotations, so a loader's new parameter is
    checked without a table to keep: a string where a list of columns goes would otherwise be
    split into letters, and ``n_samples: 1e4`` (a string to YAML) fail deep in the loader."""
    loader, fixed = _loader(name)
    allowed = set(inspect.signature(loader).parameters) - fixed
    unknown = _key_list(set(params) - allowed)
    if unknown:
        raise ConfigError(f"{where}: unknown dataset_params {unknown} for dataset {name!r}; "
                          f"allowed: {sorted(allowed)}" + _non_string_hint(unknown))
    hints = typing.get_type_hints(loader)
    for key, value in params.items():
        kind = _value_kind(hints.get(key))
        if kind is None or _fits_kind(value, kind):
            continue
        if value is None and type(None) in typing.get_args(hints[key]):
            continue
        raise ConfigError(f"{where}: dataset_params {key!r} of dataset {name!r} must be "
                          f"{_KIND_TEXT[kind]}; got {value!r}")
    for key, value in params.items():
        if _fits_kind(value, "float") and not math.isfinite(value):
            raise ConfigError(f"{where}: dataset_params {key!r} of dataset {name!r} must be "
                              f"a finite number; got {value!r}")
        if key.startswith("n_") and _fits_kind(value, "float") and value < 1:
            raise ConfigError(f"{where}: dataset_params {key!r} of dataset {name!r} counts "
                              f"records and must be at least 1; got {value!r}")


#: split arguments that are shares of a set, each in (0, 1)
_SHARES = ("test_size", "heldout_test_share")


def _check_split_values(split: dict, where: str) -> None:
    """The split's values checked before any cell runs, as the axes are: otherwise every
    cell of the entry starts a worker only to fail on the same argument."""
    from benchmarks.splits import SCALERS

    for key in _SHARES:
        value = split.get(key)
        if value is not None and not (_fits_kind(value, "float") and 0 < value < 1):
            raise ConfigError(f"{where}: split {key} must be a number in (0, 1); got {value!r}")
    n_normal = split.get("n_normal")
    if n_normal is not None and not (_fits_kind(n_normal, "int") and n_normal >= 2):
        raise ConfigError(f"{where}: split n_normal must be an integer >= 2; got {n_normal!r}")
    choices = {"scale": ("auto", *SCALERS, None), "categorical": ("drop", "onehot"),
               "dedupe": (True, False)}
    for key, allowed in choices.items():
        # by type too: 0 == False and 1 == True, but 1 would key other cells than true
        if key in split and not any(split[key] is a or (type(split[key]) is type(a)
                                                        and split[key] == a) for a in allowed):
            raise ConfigError(f"{where}: split {key} must be one of {list(allowed)}; "
                              f"got {split[key]!r}")
    pca = split.get("pca", "auto")
    if pca not in ("auto", None) and not (_fits_kind(pca, "int") and pca >= 1):
        raise ConfigError(f"{where}: split pca must be 'auto', null or a number of components "
                          f">= 1; got {pca!r}")


def _parse_dataset(entry, i: int, axes: dict, base_dir: Path | None) -> DatasetEntry:
    from benchmarks.splits import PRESETS

    where = f"datasets[{i}]"
    if isinstance(entry, str):
        entry = {"preset": entry} if entry in PRESETS else {"dataset": entry}
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a preset name, a dataset name or a mapping; "
                          f"got {entry!r}")
    _check_keys(entry, DATASET_KEYS, where)
    if ("preset" in entry) == ("dataset" in entry):
        raise ConfigError(f"{where}: give exactly one of 'preset' or 'dataset'; got {sorted(entry)}")
    split = _mapping(entry.get("split"), "split", where)
    dparams = _mapping(entry.get("dataset_params"), "dataset_params", where)
    allowed = _split_arg_names()
    bad = _key_list(set(split) - allowed)
    if bad:
        hint = (" (the axes and the seed come from the sweep: use anomaly_ratios, "
                "labelled_fractions, seeds)" if set(bad) & _AXIS_ARGS else "")
        raise ConfigError(f"{where}: unknown split argument(s) {bad}; allowed: {sorted(allowed)}"
                          f"{hint}")
    if "preset" in entry:
        preset = entry["preset"]
        if not isinstance(preset, str):
            raise ConfigError(f"{where}: preset must be a preset's name; got {preset!r}")
        if preset not in PRESETS:
            raise ConfigError(f"{where}: unknown preset {preset!r}; presets: {', '.join(PRESETS)}")
        for ax in ("anomaly_ratios", "labelled_fractions"):
            if ax in entry:
                raise ConfigError(
                    f"{where}: preset {preset!r} fixes its anomaly ratio and labelled fraction; "
                    f"remove {ax!r} or use 'dataset: {PRESETS[preset]['dataset']}' with axes")
        p = dict(PRESETS[preset])
        name = p.pop("dataset")
        ratios = (float(p.pop("anomaly_ratio")),)
        fracs = (float(p.pop("labelled_fraction")),)
        dparams = {**p.pop("dataset_params", {}), **dparams}
        split = {**p, **split}
        name, dparams = _check_dataset_name(name, dparams, where, base_dir)
        label = entry.get("label", preset)
    else:
        name, dparams = _check_dataset_name(entry["dataset"], dparams, where, base_dir)
        preset = None
        for ax in ("anomaly_ratios", "labelled_fractions"):
            if ax in entry and entry[ax] is None:
                raise ConfigError(f"{where}: {ax} is null; give a list, or remove the key to "
                                  "use the top-level value")
        ratios_v = entry.get("anomaly_ratios", axes.get("anomaly_ratios"))
        fracs_v = entry.get("labelled_fractions", axes.get("labelled_fractions"))
        if ratios_v is None or fracs_v is None:
            missing = "anomaly_ratios" if ratios_v is None else "labelled_fractions"
            raise ConfigError(f"{where}: dataset {entry['dataset']!r} needs {missing} (at the top "
                              "level or in the entry); only presets fix their own")
        ratios = _axis(ratios_v, "anomaly_ratios", where, allow_one=False)
        fracs = _axis(fracs_v, "labelled_fractions", where, allow_one=True)
        label = entry.get("label", entry["dataset"])
    if not isinstance(label, str) or not label:
        raise ConfigError(f"{where}: label must be a non-empty string; got {label!r}")
    _check_dataset_params(name, dparams, where)
    _check_split_values(split, where)
    return DatasetEntry(label=label, dataset=name, preset=preset, split=split,
                        dataset_params=dparams, anomaly_ratios=ratios, labelled_fractions=fracs)


def _default_label(name: str, params: dict) -> str:
    if not params:
        return name
    inner = ",".join(f"{k}={params[k]}" for k in sorted(params))
    return f"{name}({inner})"


def _grid(params: dict, where: str) -> list[dict]:
    """Every combination of the list-valued params (a list is a grid axis), in YAML order;
    a list value is one item of a grid (``[[16, 8]]``, checked by
    :func:`_check_list_values`). ``where`` names the entry in an error."""
    axes = [(k, v) for k, v in params.items() if isinstance(v, list)]
    for k, v in axes:
        if not v:
            raise ConfigError(f"{where}: params: {k} is an empty grid; give at least one value")
        repeated = [x for i, x in enumerate(v) if x in v[:i]]
        if repeated:  # the same setting twice: one label, one cell, run and counted twice
            raise ConfigError(f"{where}: params: {k} lists {repeated[0]!r} more than once")
    points = [dict(params)]
    for k, values in axes:
        points = [{**pt, k: v} for pt in points for v in values]
    return points


def _check_list_values(name: str, params: dict, where: str) -> None:
    """Refuse a grid of plain values for a parameter that takes a list.

    Why: a list in ``params`` is a grid, one setting per item, so ``hidden_neuron_list:
    [16, 8]`` would run 16 and 8 as two settings of a parameter that takes a list, and every
    cell would fail when it fits; ``[[16, 8]]`` is the one value ``[16, 8]``.
    """
    scalar = (bool, int, float, str)
    grids = [k for k, v in params.items()
             if isinstance(v, list) and any(isinstance(x, scalar) for x in v)]
    if not grids:
        return
    takes_list = _list_params(name)
    for key in grids:
        if key in takes_list:
            value = params[key]
            raise ConfigError(
                f"{where}: params: {key} takes a list ({takes_list[key]}), "
                f"and a list in params is a grid of values, so {value!r} would try each item "
                f"alone; write [{value!r}] for the one value {value!r}, or a list of lists "
                "for a grid of them")


def _list_params(name: str) -> dict[str, str]:
    """The parameters of detector ``name`` that take a list, by name, each with how that is
    known: a default that is a list or tuple, or, for a default of None, a numpydoc type line
    that offers only a list or tuple (:func:`_documented_list_type`; PyOD's DeepSVDD documents
    ``hidden_neurons : list, optional (default=[64, 32])`` and defaults it to None).

    Read from the class ``name`` builds and, for a PyOD adapter, the PyOD model its
    parameters go to: a registry factory takes ``**params``, so its own signature names none
    of them.
    """
    import importlib

    from benchmarks.registry import make_detector

    try:
        detector = make_detector(name, random_state=0)
    except Exception:  # the detector's own build check names what is wrong
        return {}
    classes = [type(detector)]
    model = getattr(detector, "model", None)
    if isinstance(model, str) and hasattr(detector, "model_params"):
        from baselines.pyod_adapters import PYOD_MODELS

        if model in PYOD_MODELS:
            module, cls, _ = PYOD_MODELS[model]
            classes.append(getattr(importlib.import_module(f"pyod.models.{module}"), cls))
    found = {}
    for cls in classes:
        try:
            params = inspect.signature(cls.__init__).parameters.values()
        except (TypeError, ValueError):  # no signature to read: nothing to say
            continue
        doc = inspect.getdoc(cls) or ""
        for p in params:
            if isinstance(p.default, list | tuple):
                found[p.name] = f"its default is {p.default!r}"
            elif p.default is None and (kind := _documented_list_type(doc, p.name)):
                found[p.name] = f"documented as {kind!r}"
    return found


def _documented_list_type(doc: str, param: str) -> str:
    """The numpydoc type line of ``param`` in ``doc`` (dedented, as :func:`inspect.getdoc`
    gives it) when every type it offers is a list or tuple (``hidden_neurons : list,
    optional``; not ``list or int``, which a grid of ints may mean), else ``""``."""
    match = re.search(rf"^{re.escape(param)}[ \t]*:[ \t]*(\S.*)$", doc, re.MULTILINE)
    if not match:
        return ""
    offered = re.split(r"\s+or\s+|\|", re.split(r"[,(]", match.group(1))[0].lower())
    kinds = [k for k in (k.strip() for k in offered) if k not in ("", "none")]
    if kinds and all(re.match(r"(list|tuple)\b", k) for k in kinds):
        return match.group(1).strip()
    return ""


def _check_buildable(name: str, params: dict, where: str):
    from benchmarks.registry import make_detector

    try:
        canonical_json(params)
    except TypeError as exc:
        raise ConfigError(f"{where}: params must be plain YAML values: {exc}") from None
    try:  # construction only stores arguments: a cheap check of parameter names
        detector = make_detector(name, random_state=0, **params)
    except Exception as exc:
        raise ConfigError(f"{where}: cannot build detector {name!r} with params {params}: "
                          f"{exc}") from None
    _check_param_values(detector, name, where)
    return detector


def _check_param_values(detector, name: str, where: str) -> None:
    """Run the parameter checks a detector otherwise runs first thing in ``fit``, so that a bad
    value (``n_bags: -3``) is refused now rather than failing every cell: PU-GAN's
    ``_check_params`` and the one-class adapters' ``_validate_common``, which read the stored
    parameters only, then scikit-learn's constraints on what a PyOD model hands on
    (:func:`_check_wrapped_estimator_params`) and the check of the class PU bagging's
    detector hands its parameters to (:func:`_check_handed_on_params`). A method of that name
    that wants arguments (a plugin's own, say ``_check_params(X, y)``) is another check, left
    to ``fit``.

    Whether CUDA exists is a question for the machine that runs the cells (a Dask worker may
    have it when this one has not), so a ``cuda`` device is checked as ``cpu`` here.
    """
    probe = detector
    if str(getattr(detector, "device", "")).startswith("cuda"):
        probe = copy.copy(detector)
        probe.device = "cpu"
    for check in ("_check_params", "_validate_common"):
        method = getattr(probe, check, None)
        if not (callable(method) and _takes_no_arguments(method)):
            continue
        try:
            method()
        except Exception as exc:
            raise ConfigError(f"{where}: bad parameter value for detector {name!r}: "
                              f"{exc}") from None
    _check_wrapped_estimator_params(probe, name, where)
    _check_handed_on_params(probe, name, where)


#: the scikit-learn estimator each PyOD model builds in fit from its parameters of the same
#: names, passed on unchanged
_PYOD_SKLEARN = {"IForest": ("sklearn.ensemble", "IsolationForest"),
                 "KNN": ("sklearn.neighbors", "NearestNeighbors"),
                 "LOF": ("sklearn.neighbors", "LocalOutlierFactor"),
                 "PCA": ("sklearn.decomposition", "PCA")}

#: project detectors that hand their parameters to a class with a data-free ``_check_params``
#: only when they fit: the PU-bagging detector builds its classifier there
_HANDED_ON = {("pugan.pu_bagging", "PUBaggingDetector"): ("pugan.pu_bagging",
                                                         "PUBaggingClassifier")}


def _check_wrapped_estimator_params(detector, name: str, where: str) -> None:
    """Ask scikit-learn now about the parameters a PyOD model hands to the scikit-learn
    estimator it builds only when it fits (:data:`_PYOD_SKLEARN`), so that ``n_estimators:
    -5`` is refused by ``validate`` instead of failing every cell. Only the values the config
    sets are asked about, and only those the estimator declares constraints for.
    """
    model, params = getattr(detector, "model", None), getattr(detector, "model_params", None)
    if not (isinstance(model, str) and isinstance(params, dict) and params
            and model in _PYOD_SKLEARN):
        return
    estimator = _class_at(_PYOD_SKLEARN[model])
    constrained = getattr(estimator, "_parameter_constraints", {})
    handed = {k: v for k, v in params.items() if k in constrained}
    _run_receiver_check(
        estimator, handed, "_validate_params", (ValueError, TypeError),
        f"{where}: bad parameter value for detector {name!r}: PyOD {model} passes "
        f"{', '.join(sorted(handed))} to scikit-learn's {estimator.__name__}, which refuses it: ")


def _check_handed_on_params(detector, name: str, where: str) -> None:
    """Run the check of the class a detector hands its parameters to in fit
    (:data:`_HANDED_ON`), on the parameters that class takes, so that ``pu-bagging`` with
    ``n_estimators: -3`` is refused now rather than failing every cell."""
    target = _HANDED_ON.get((type(detector).__module__, type(detector).__name__))
    if target is None:
        return
    receiver = _class_at(target)
    accepted = inspect.signature(receiver.__init__).parameters
    handed = {k: v for k, v in detector.get_params(deep=False).items() if k in accepted}
    _run_receiver_check(receiver, handed, "_check_params", Exception,
                        f"{where}: bad parameter value for detector {name!r}: ")


def _class_at(location: tuple[str, str]) -> type:
    """The class a (module, name) pair names, its module imported on first use."""
    import importlib

    return getattr(importlib.import_module(location[0]), location[1])


def _run_receiver_check(receiver: type, handed: dict, method: str, faults, message: str) -> None:
    """Build ``receiver`` from the parameters a detector hands it and call its data-free check
    ``method``; a fault of type ``faults`` becomes a ConfigError, ``message`` followed by the
    check's own words. Nothing handed on, or no such check, leaves nothing to ask."""
    if not handed:
        return
    check = getattr(receiver(**handed), method, None)
    if check is None:  # e.g. a scikit-learn without declared constraints: fit will say
        return
    try:
        check()
    except faults as exc:
        raise ConfigError(f"{message}{exc}") from None


def _takes_no_arguments(method) -> bool:
    """Whether a bound method can be called with no argument."""
    try:
        params = inspect.signature(method).parameters.values()
    except (TypeError, ValueError):  # no signature to read: do not guess
        return False
    return all(p.default is not p.empty or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               for p in params)


def _check_tuned_on_this_data(detectors, datasets, tuning: dict | None) -> None:
    """Refuse a tuned choice applied to other data or another detector than it was made on.

    A tuning file keys its choices by dataset label and detector key; a sweep that gives the
    label to another dataset (or split), or the key to another registry detector, would run
    a choice made elsewhere and report it as tuned. Files that record what each choice was
    made on are checked; older ones, which do not, are taken as they are."""
    from benchmarks.tuning import dataset_definition

    for det in detectors:
        if not det.per_dataset:
            continue
        for d in datasets:
            choice = tuning["choices"].get(d.label, {}).get(det.group)
            if choice is None:
                continue
            made_on = choice.get("dataset_definition")
            if made_on is not None and made_on != dataset_definition(d):
                raise ConfigError(
                    f"config: {choice['file']} chose {det.group!r} for dataset {d.label!r} "
                    f"as {made_on}, but this config's {d.label!r} is "
                    f"{dataset_definition(d)}: tune on this dataset, or label it otherwise")
            tuned_name = choice.get("detector_name")
            if tuned_name is not None and tuned_name != det.name:
                raise ConfigError(
                    f"config: {choice['file']} chose {det.group!r} for dataset {d.label!r} "
                    f"on detector {tuned_name!r}, but this entry is {det.name!r}: a choice "
                    "holds for the detector it was tuned on")


def _parse_detector(entry, i: int, tuning: dict | None = None) -> list[DetectorEntry]:
    """One config entry -> its detector settings (several for a grid)."""
    from benchmarks.registry import UnknownDetectorError, get_spec, plugin_registration

    where = f"detectors[{i}]"
    if isinstance(entry, str):
        entry = {"name": entry}
    if not isinstance(entry, dict):
        raise ConfigError(f"{where}: expected a registry name or a mapping; got {entry!r}")
    _check_keys(entry, DETECTOR_KEYS, where)
    if "name" not in entry:
        raise ConfigError(f"{where}: missing key 'name' (a registry name; see "
                          "`pugan-bench detectors`)")
    name = entry["name"]
    if not isinstance(name, str) or not name:
        raise ConfigError(f"{where}: name must be a registry name (see `pugan-bench "
                          f"detectors`); got {name!r}")
    try:
        spec = get_spec(name)
    except UnknownDetectorError as exc:
        raise ConfigError(f"{where}: {exc}") from None
    registration = plugin_registration(name)  # a plugin's factory and settings: in the key
    user_params = _mapping(entry.get("params"), "params", where)
    use_test = entry.get("test_params", False)
    if not isinstance(use_test, bool):
        raise ConfigError(f"{where}: test_params must be true or false; got {use_test!r}")
    base = dict(spec.test_params) if use_test else {}
    group = entry.get("label", name)
    if not isinstance(group, str) or not group:
        raise ConfigError(f"{where}: label must be a non-empty string; got {group!r}")
    tuned = entry.get("tuned", False)
    if tuned:
        if any(isinstance(v, list) for v in user_params.values()):
            raise ConfigError(f"{where}: a tuned entry takes its params from the tuning file; "
                              "give no grid beside 'tuned'")
        key = name if tuned is True else tuned
        if not isinstance(key, str):
            raise ConfigError(f"{where}: tuned must be true or a tuning key; got {tuned!r}")
        if tuning is None:
            raise ConfigError(f"{where}: tuned entries need a top-level 'tuning:' file written by "
                              "`pugan-bench tune`")
        per_dataset = {}
        for dataset, by_detector in tuning["choices"].items():
            if key in by_detector:
                per_dataset[dataset] = {**base, **by_detector[key]["params"], **user_params}
        if not per_dataset:
            raise ConfigError(f"{where}: the tuning file {tuning['path']} has no choice for "
                              f"{key!r}; run `pugan-bench tune` with that detector")
        detector = None
        for params in per_dataset.values():
            detector = _check_buildable(name, params, where)
        label = entry.get("label", f"{name} (tuned)")
        return [DetectorEntry(label=label, name=name, params={**base, **user_params},
                              fingerprint=code_fingerprint(detector, registration), group=key,
                              per_dataset=per_dataset, overrides=dict(user_params))]
    _check_list_values(name, user_params, where)
    points = _grid(user_params, where)
    out = []
    for point in points:
        params = {**base, **point}
        detector = _check_buildable(name, params, where)
        if len(points) == 1:
            label = entry.get("label", _default_label(name, user_params))
        else:
            varied = {k: point[k] for k, v in user_params.items() if isinstance(v, list)}
            label = f"{group}[{','.join(f'{k}={v}' for k, v in varied.items())}]"
        out.append(DetectorEntry(label=label, name=name, params=params,
                                 fingerprint=code_fingerprint(detector, registration),
                                 group=group))
    return out


def count_cells(datasets, detectors, seeds) -> int:
    """Cells a config describes, counted without building them."""
    return sum(len(d.anomaly_ratios) * len(d.labelled_fractions) for d in datasets) \
        * len(detectors) * len(seeds)


def check_cell_count(datasets, detectors, seeds) -> None:
    n = count_cells(datasets, detectors, seeds)
    if n > MAX_CELLS:
        raise ConfigError(f"config: {n} cells is more than {MAX_CELLS}; split the sweep")


def check_n_jobs(n_jobs: int, cores: int, *, factor: int = 4) -> None:
    """Refuse ``n_jobs`` far above the machine's cores (a typo, or a config for a cluster run
    locally): so many cell processes only thrash memory and caches."""
    if n_jobs > factor * cores:
        raise ConfigError(f"n_jobs={n_jobs} is far above the {cores} core(s) here (at most "
                          f"{factor * cores}); lower it, or use --backend dask --scheduler "
                          "for a cluster")


def with_time_limit(config: SweepConfig, seconds: float | None) -> SweepConfig:
    """``config`` with the command line's ``--time-limit`` in force (unchanged for None); a
    limit that is not a positive finite number of seconds is refused, as in a config."""
    if seconds is None:
        return config
    if not math.isfinite(seconds) or seconds <= 0:
        raise ConfigError(f"--time-limit must be positive; got {seconds}")
    _check_time_limit_bound(seconds, "--time-limit")
    return replace(config, time_limit=seconds)


def _check_time_limit_bound(seconds: float, where: str) -> None:
    """A limit longer than :data:`MAX_TIME_LIMIT` passes every other check and then fails in
    every cell (the isolated cell's wait overflows); refuse it here, naming the bound."""
    if seconds > MAX_TIME_LIMIT:
        raise ConfigError(f"{where} must be at most {MAX_TIME_LIMIT} seconds (about 24.8 days, "
                          f"the longest wait an isolated cell can have); got {seconds:g}; "
                          "for no limit, leave it out")


def parse_config(raw, *, source: str | None = None, base_dir: str | Path | None = None) -> SweepConfig:
    """Validate a config mapping (as read from YAML); raise :class:`ConfigError` on any problem."""
    if not isinstance(raw, dict):
        raise ConfigError(f"a sweep config must be a mapping of keys; got {type(raw).__name__}")
    _check_keys(raw, TOP_KEYS, "config")
    base = Path(base_dir) if base_dir is not None else None
    resolved_plugins = resolve_plugins(raw.get("plugins"), base)
    import_plugins(resolved_plugins)

    for key in ("datasets", "detectors"):
        if key not in raw:
            raise ConfigError(f"config: missing required key {key!r}")
        if not isinstance(raw[key], list) or not raw[key]:
            raise ConfigError(f"config: {key} must be a non-empty list; got {raw[key]!r}")
    if "seeds" not in raw:
        raise ConfigError("config: missing required key 'seeds' (a list, or a count such as 3)")
    seeds = _seeds(raw["seeds"])
    axes = {}
    for ax, one in (("anomaly_ratios", False), ("labelled_fractions", True)):
        if ax in raw:
            axes[ax] = _axis(raw[ax], ax, "config", allow_one=one)
    datasets = tuple(_parse_dataset(e, i, axes, base) for i, e in enumerate(raw["datasets"]))
    tuning = None
    if raw.get("tuning") is not None:
        from benchmarks.tuning import read_tunings

        listed = raw["tuning"] if isinstance(raw["tuning"], list) else [raw["tuning"]]
        if not listed or not all(isinstance(t, str) and t for t in listed):
            raise ConfigError(f"config: tuning must be a tuning file or a list of them; "
                              f"got {raw['tuning']!r}")
        shown, found = [], []
        for name in listed:
            tpath = Path(name)
            shown.append((tpath if tpath.is_absolute() or source is None
                           else Path(source).parent / tpath).as_posix())
            found.append(tpath if tpath.is_absolute() or base is None else base / tpath)
        tuning = {**read_tunings(found), "path": ", ".join(shown), "files": tuple(shown)}
    detectors = tuple(d for i, e in enumerate(raw["detectors"])
                      for d in _parse_detector(e, i, tuning))
    for det in detectors:
        missing = [d.label for d in datasets if det.per_dataset and d.label not in det.per_dataset]
        if missing:
            raise ConfigError(f"config: the tuning file {tuning['path']} has no setting of "
                              f"{det.group!r} for dataset(s) {missing}; tune them with "
                              "`pugan-bench tune`")
    _check_tuned_on_other_seeds(detectors, datasets, seeds, tuning)
    _check_tuned_on_this_data(detectors, datasets, tuning)
    for kind, entries in (("dataset", datasets), ("detector", detectors)):
        labels = [e.label for e in entries]
        dupes = sorted({x for x in labels if labels.count(x) > 1})
        if dupes:
            raise ConfigError(f"config: duplicate {kind} label(s) {dupes}; give each entry a "
                              "distinct 'label'")
    n_jobs = raw.get("n_jobs", 1)
    if isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1:
        raise ConfigError(f"n_jobs must be a positive integer or -1 (all cores); got {n_jobs!r}")
    time_limit = raw.get("time_limit")
    if time_limit is not None and (isinstance(time_limit, bool)
                                   or not isinstance(time_limit, int | float)
                                   or not math.isfinite(time_limit) or time_limit <= 0):
        raise ConfigError(f"time_limit must be a positive number of seconds or null; "
                          f"got {time_limit!r}")
    if time_limit is not None:
        _check_time_limit_bound(time_limit, "time_limit")
    check_cell_count(datasets, detectors, seeds)
    for key in ("name", "description"):  # null would become the text "None"
        if key in raw and not isinstance(raw[key], str):
            raise ConfigError(f"{key} must be a string; got {raw[key]!r}")
    name = raw.get("name") or (Path(source).stem if source else "sweep")
    return SweepConfig(name=str(name), datasets=datasets, detectors=detectors, seeds=seeds,
                       n_jobs=n_jobs, time_limit=None if time_limit is None else float(time_limit),
                       plugins=tuple(resolved_plugins), description=str(raw.get("description", "")),
                       source=source, tuning=None if tuning is None else tuning["files"])


def _check_tuned_on_other_seeds(detectors, datasets, seeds, tuning) -> None:
    """A tuned setting must not be judged on the seeds that chose it: its score there is the
    best of a grid on those very splits, an optimistic number. ``tune`` refuses report seeds
    unless told otherwise, and this refuses the other half: a config whose seeds include those
    its tuning file recorded for a choice it uses, a choice that records no seeds or report
    seeds, and tuned entries of one dataset whose grids differ in size (unequal budgets)."""
    from benchmarks.tuning import check_choice_seeds

    if tuning is None:
        return
    budgets: dict[str, dict[str, int]] = {}  # dataset -> entry -> grid points
    for det in detectors:
        for d in datasets:
            choice = tuning["choices"].get(d.label, {}).get(det.group) if det.per_dataset else None
            if choice is None:
                continue
            check_choice_seeds(choice, f"{det.group!r} on {d.label!r}")
            if isinstance(choice.get("grid"), list):
                budgets.setdefault(d.label, {})[det.group] = len(choice["grid"])
            shared = sorted(set(choice["seeds"]) & set(seeds))
            if shared:
                raise ConfigError(
                    f"config: {det.group!r} on {d.label!r} was tuned on seed(s) {shared} "
                    f"({choice['file']}), which this config also runs; a setting is judged "
                    "on seeds other than those that chose it: tune on development seeds, or "
                    "drop those seeds here")
    for dataset, points in budgets.items():
        if len(set(points.values())) > 1:
            raise ConfigError(
                f"config: the tuned entries on {dataset!r} had unequal budgets (grid points "
                f"{points}); every detector is tuned with the same number of points")


def load_config(path: str | Path) -> SweepConfig:
    """Read and validate a YAML sweep config."""
    path = Path(path)
    if not path.is_file():
        raise ConfigError(f"config file not found: {path}")
    raw = read_yaml_file(path, "save the config as UTF-8")
    return parse_config(raw, source=str(path), base_dir=path.resolve().parent)


def expand_cells(config: SweepConfig) -> list[Cell]:
    """The cartesian product, ordered so that cells sharing a split are adjacent."""
    version = code_version()
    cells = []
    for d in config.datasets:
        split_json = canonical_json(d.split)
        dparams_json = canonical_json(d.dataset_params)
        for ratio in d.anomaly_ratios:
            for frac in d.labelled_fractions:
                for seed in config.seeds:
                    for det in config.detectors:
                        cells.append(Cell(
                            dataset=d.label, dataset_name=d.dataset, preset=d.preset,
                            split_json=split_json, dataset_params_json=dparams_json,
                            detector=det.label, detector_name=det.name,
                            detector_params_json=canonical_json(det.params_for(d.label)),
                            anomaly_ratio=ratio, labelled_fraction=frac, seed=seed,
                            version=f"{version}+{det.fingerprint}" if det.fingerprint
                            else version))
    seen: dict[str, Cell] = {}
    tuned = {d.label for d in config.detectors if d.per_dataset}
    for cell in cells:
        twin = seen.setdefault(cell.key, cell)
        # a tuned entry may land on the very setting another entry names (the tuning picked
        # it): the two labels then share one computed cell; any other repeat is a mistake
        if twin is not cell and not ({twin.detector, cell.detector} & tuned):
            raise ConfigError(
                f"config: two entries describe the same cell (dataset {twin.dataset!r} / "
                f"{cell.dataset!r}, detector {twin.detector!r} / {cell.detector!r}: the same "
                "data, split, detector and params under different labels); remove the "
                "duplicate")
    return cells
