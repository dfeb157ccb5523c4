"""How the suite reads a YAML file: sweep configs, tuning files, a sweep folder's resolved config.

One reader, so that every file that decides what runs is read as strictly: UTF-8 text, a key
repeated in a mapping refused (the plain loader keeps the last value without a word), an
alias bomb refused, and each fault one line naming the file.
"""

from __future__ import annotations

from pathlib import Path

from benchmarks.errors import ConfigError

__all__ = ["MAX_YAML_NODES", "MERGE_TAG", "read_yaml_file", "yaml_problem"]

#: values a file's aliases may add once expanded (an alias bomb multiplies them without
#: bound); what is written out plainly does not count
MAX_YAML_NODES = 200_000
#: the tag of a merge key (``<<: *base``), which is no key of the mapping itself
MERGE_TAG = "tag:yaml.org,2002:merge"


def _safe_yaml(text: str, source: str):
    """``yaml.safe_load`` that refuses duplicate keys and alias bombs, naming the problem."""
    import yaml

    class Loader(yaml.SafeLoader):
        def construct_mapping(self, node, deep=False):
            seen = set()
            for key_node, _ in node.value:
                if key_node.tag == MERGE_TAG:  # ``<<: *base``: keys the mapping may override
                    continue
                key = self.construct_object(key_node, deep=True)
                try:
                    dup = key in seen
                    seen.add(key)
                except TypeError:
                    continue
                if dup:
                    raise ConfigError(f"{source}: duplicate key {key!r} (line "
                                      f"{key_node.start_mark.line + 1}); each key may appear "
                                      "once per mapping")
            return super().construct_mapping(node, deep=deep)

    loader = Loader(text)
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        sizes: dict[int, int] = {}

        def size(n) -> int:
            """Values under ``n`` once aliases are expanded, each shared node's count taken
            from ``sizes``. A subtree's expanded count less every distinct node seen so far
            is at most what aliases add, so a bomb is refused as soon as that passes the
            bound, and a long document written out plainly never is."""
            if id(n) in sizes:
                return sizes[id(n)]
            sizes[id(n)] = 1  # a recursive alias counts once
            total = 1
            if isinstance(n, yaml.SequenceNode):
                total += sum(size(c) for c in n.value)
            elif isinstance(n, yaml.MappingNode):
                total += sum(size(k) + size(v) for k, v in n.value)
            sizes[id(n)] = total
            if total - len(sizes) > MAX_YAML_NODES:
                raise ConfigError(f"{source}: the YAML's aliases (&/*) expand it by more than "
                                  f"{MAX_YAML_NODES} values; write it out plainly")
            return total

        size(node)
        return loader.construct_document(node)
    finally:
        loader.dispose()


def yaml_problem(exc) -> str:
    """A YAML error in one line: what is wrong and where (PyYAML's own text spans several
    lines, quoting the document, which an error line of the command line cannot hold)."""
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    mark = getattr(exc, "problem_mark", None)
    return f"{problem} at line {mark.line + 1}, column {mark.column + 1}" if mark else problem


def read_yaml_file(path: Path, advice: str):
    """The YAML document in ``path``, read as every file of the suite is: UTF-8 text, with
    duplicate keys and alias bombs refused (:func:`_safe_yaml`). Each fault is one
    :class:`ConfigError` line naming the file (the codec's own message names a byte offset
    but not the file; PyYAML's quotes the document over several lines); ``advice`` says what
    to do about text that is not UTF-8. A missing file raises ``FileNotFoundError``, which
    each caller names with its own advice."""
    import yaml

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at "
                          f"offset {exc.start}); {advice}") from None
    except FileNotFoundError:
        raise
    except OSError as exc:  # a folder where the file should be, no permission to read it
        raise ConfigError(f"{path}: cannot be read ({exc.strerror or exc})") from None
    try:
        return _safe_yaml(text, str(path))
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {yaml_problem(exc)}") from None
