#!/usr/bin/env python
"""Long property-based fuzz of the whole OpenAPI (the suite's tests/fuzz with a big budget).

    python scripts/fuzz_long.py                   # 500 examples per operation (~minutes)
    python scripts/fuzz_long.py --examples 2000   # longer
    python scripts/fuzz_long.py --strict          # also the documentation-conformance checks

Same app and checks as ``tests/fuzz/test_openapi_fuzz.py``: no 5xx, responses match their schemas
and content types, negative data rejected, missing key refused. Prints the number of cases run.
Exit status: pytest's (0 when every operation held).
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def main() -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--examples", type=int, default=500, help="Hypothesis examples per operation.")
    parser.add_argument("--strict", action="store_true", help="Run every default schemathesis check.")
    parser.add_argument("pytest_args", nargs="*", help="Extra pytest arguments (e.g. -k pikaframes).")
    args = parser.parse_args()

    os.environ["OPENPIKA_FUZZ_EXAMPLES"] = str(args.examples)
    if args.strict:
        os.environ["OPENPIKA_FUZZ_STRICT"] = "1"
    sys.path.insert(0, str(REPO / "src"))
    os.chdir(REPO)
    import pytest

    target = "tests/fuzz/test_openapi_fuzz.py"
    return int(pytest.main([target, "-q", "-s", "-p", "no:cacheprovider", "--timeout=0", *args.pytest_args]))


if __name__ == "__main__":
    sys.exit(main())
