"""``python -m benchmarks``: the same command line as ``pugan-bench``."""

import sys

from benchmarks.cli import main

if __name__ == "__main__":
    sys.exit(main())
