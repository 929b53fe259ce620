"""What every stage CLI shares: argument parsing and one-line errors for bad input."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable

from ..io import InputError
from ..params import load_params


def parser(doc: str) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=doc.strip().splitlines()[0])
    p.add_argument("--params", required=True, help="profile file, e.g. params/default.yaml")
    return p


def run(main: Callable[[argparse.Namespace, dict], None], p: argparse.ArgumentParser) -> None:
    """Parse, load params, run `main`; bad input ends the process with one line naming the cause."""
    args = p.parse_args()
    try:
        params = load_params(args.params)
        main(args, params)
    except (InputError, FloatingPointError) as e:
        sys.exit(f"error: {e}")
