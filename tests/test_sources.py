"""The workflow's code inputs come from the stages' import graph (dapo.sources)."""

import subprocess
import sys

import pytest

from dapo.sources import module_sources, stage_sources
from helpers import REPO

STAGES = ["data", "sft", "generate", "complete", "critic", "advantages", "actor", "evaluate", "tables"]
SRC = REPO / "src"


def test_stage_sources_include_what_the_hand_written_lists_missed():
    actor = stage_sources(SRC, "actor")
    assert {"src/dapo/training.py", "src/dapo/tasks/base.py", "src/dapo/stages/actor.py",
            "src/dapo/stages/_chain.py", "src/dapo/losses.py"} <= set(actor)
    assert "src/dapo/generation.py" not in actor  # only what the stage imports
    assert "src/dapo/losses.py" in stage_sources(SRC, "generate")


def test_relative_and_package_imports_resolve(tmp_path):
    pkg = tmp_path / "src" / "dapo"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from .leaf import x\n")
    (pkg / "sub" / "leaf.py").write_text("x = 1\n")
    (pkg / "lazy.py").write_text("")
    (pkg / "top.py").write_text("import os\nfrom . import sub\n\ndef f():\n    from .lazy import y\n")
    assert module_sources(str(tmp_path / "src"), "dapo.top") == tuple(
        f"src/dapo/{f}" for f in ("__init__.py", "lazy.py", "sub/__init__.py", "sub/leaf.py", "top.py"))
    with pytest.raises(ValueError, match="dapo.missing"):
        module_sources(str(tmp_path / "src"), "dapo.missing")


@pytest.mark.parametrize("stage", STAGES)
def test_every_module_a_stage_loads_is_a_code_input(stage):
    loaded = subprocess.run(
        [sys.executable, "-c", (f"import sys, dapo.stages.{stage}; "
                                "print('\\n'.join(m.__file__ for n, m in sys.modules.items() if n.split('.')[0] == 'dapo'))")],
        capture_output=True, text=True, check=True).stdout.split()
    loaded = {str(__import__("pathlib").Path(f).resolve().relative_to(REPO)) for f in loaded}
    assert loaded and loaded <= set(stage_sources(SRC, stage))
