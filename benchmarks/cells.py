"""Cell identity: one run cell, its seeds and its cache key.

A :class:`Cell` is (dataset + loader params + split params, detector + params, anomaly ratio,
labelled fraction, seed). Its seeds and its cache key are SHA-256 hashes of canonical JSON, so
they are the same in every process and on every machine; the key also covers the code version
(the package version and the detector's code fingerprint, :mod:`benchmarks.fingerprint`).
Changing anything here changes every cache key: a cached sweep would run again.
"""

from __future__ import annotations

import hashlib
import json
import numbers
from dataclasses import dataclass, field
from pathlib import Path

__all__ = ["CACHE_SCHEMA", "Cell", "PROJECT_ROOT", "canonical_json", "code_version",
           "data_identity", "derive_seed"]

#: the repository's folder: committed sweeps are told by their place under it, and the
#: files inside it that a sweep folder records are named relative to it
PROJECT_ROOT = Path(__file__).resolve().parent.parent

#: bump when the meaning of a cached cell changes (row fields, metric definitions)
CACHE_SCHEMA = 1


def canonical_json(obj) -> str:
    """Stable JSON: sorted keys, no spaces, tuples as lists; used for keys and hashes."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=_json_default)


def _json_default(o):
    if isinstance(o, tuple | set | frozenset):
        return sorted(o) if isinstance(o, set | frozenset) else list(o)
    if isinstance(o, Path):
        return str(o)
    if hasattr(o, "item"):  # numpy scalars
        return o.item()
    raise TypeError(f"not JSON-serialisable: {o!r} ({type(o).__name__})")


def derive_seed(*key) -> int:
    """A 32-bit seed from any key, stable across processes and machines (unlike ``hash``)."""
    return int.from_bytes(hashlib.sha256(repr(key).encode()).digest()[:4], "little")


def code_version() -> str:
    """The installed pugan-bench version; part of every cache key ("unknown" when running from
    a checkout that was never installed)."""
    from benchmarks.fingerprint import dist_version

    return dist_version("pugan-bench", "unknown")


def data_identity(dataset_name: str, dataset_params_json: str) -> tuple[str, str]:
    """A dataset's name and parameters as they enter split seeds and cache keys. A user's file
    counts by its content (the ``sha256`` its parameters carry), not by where it lies, so the
    same file in another folder or clone draws the same splits and seeds and hits the same
    cache; every other dataset counts by its name and parameters."""
    params = json.loads(dataset_params_json)
    if "sha256" not in params:
        return dataset_name, dataset_params_json
    name = "file" if dataset_name.startswith("file:") else dataset_name
    return name, canonical_json({k: v for k, v in params.items() if k != "path"})


@dataclass(frozen=True)
class Cell:
    """One run cell: (dataset + split params, detector + params, ratio, fraction, seed).

    Parameters are kept as canonical JSON strings so a cell is hashable and picklable as is.
    ``split_seed`` is the same for every detector on the same split; ``model_seed`` is derived
    from it and the detector.
    """

    dataset: str            # display label
    dataset_name: str       # loader name passed to make_pu_split
    preset: str | None
    split_json: str         # make_pu_split keyword arguments (without the axes and the seed)
    dataset_params_json: str
    detector: str           # display label
    detector_name: str      # registry name
    detector_params_json: str
    anomaly_ratio: float
    labelled_fraction: float
    seed: int
    version: str = field(default_factory=code_version)  # "<package version>+<code fingerprint>"

    def __post_init__(self):
        """The axes as Python numbers: the seeds hash their ``repr``, and a numpy scalar's
        (``np.float64(0.1)``) would draw other splits than the cache key, which reads its
        value, says the cell has."""
        for name, kind, cast in (("anomaly_ratio", numbers.Real, float),
                                 ("labelled_fraction", numbers.Real, float),
                                 ("seed", numbers.Integral, int)):
            value = getattr(self, name)
            if isinstance(value, kind) and not isinstance(value, bool):
                object.__setattr__(self, name, cast(value))

    @property
    def split_params(self) -> dict:
        return json.loads(self.split_json)

    @property
    def dataset_params(self) -> dict:
        return json.loads(self.dataset_params_json)

    @property
    def detector_params(self) -> dict:
        return json.loads(self.detector_params_json)

    @property
    def data_identity(self) -> tuple[str, str]:
        """The dataset's name and parameters as they enter the seeds and keys
        (:func:`data_identity`)."""
        return data_identity(self.dataset_name, self.dataset_params_json)

    @property
    def split_key(self) -> str:
        """Canonical identity of the split (shared by every detector)."""
        return canonical_json([*self.data_identity, self.split_json,
                               self.anomaly_ratio, self.labelled_fraction, self.seed])

    @property
    def split_seed(self) -> int:
        return derive_seed(*self.data_identity, self.split_json,
                           self.anomaly_ratio, self.labelled_fraction, self.seed)

    @property
    def model_seed(self) -> int:
        return derive_seed(self.split_seed, self.detector_name, self.detector_params_json)

    @property
    def key(self) -> str:
        """Cache key: a hash of the full configuration of the cell and the code version.

        Display labels are not part of it (renaming an entry recomputes nothing).
        """
        dataset, dataset_params = self.data_identity
        payload = canonical_json({
            "dataset": dataset, "dataset_params": dataset_params,
            "split": self.split_json, "anomaly_ratio": self.anomaly_ratio,
            "labelled_fraction": self.labelled_fraction, "seed": self.seed,
            "detector": self.detector_name, "detector_params": self.detector_params_json,
            "version": self.version, "schema": CACHE_SCHEMA,
        })
        return hashlib.sha256(payload.encode()).hexdigest()[:20]

    def split_kwargs(self) -> dict:
        """Keyword arguments for :func:`benchmarks.splits.make_pu_split`."""
        kw = dict(self.split_params)
        if self.dataset_params:
            kw["dataset_params"] = self.dataset_params
        return dict(dataset=self.dataset_name, anomaly_ratio=self.anomaly_ratio,
                    labelled_fraction=self.labelled_fraction, seed=self.split_seed, **kw)
