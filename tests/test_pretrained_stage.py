"""The pretrained stage's sources other than the SmolLM2 GGUF (tests/test_pretrained.py): a
checkpoint directory, a hub id without a hub, and a path that is neither."""

import pytest
import torch

from dapo.io import InputError
from dapo.models import load_policy, pretrained_checkpoint


def test_a_checkpoint_directory_is_copied_as_it_is(tiny_checkpoint, tmp_path):
    assert pretrained_checkpoint(str(tiny_checkpoint), tmp_path / "out") == str(tiny_checkpoint)
    (a, _), (b, tok) = load_policy(tiny_checkpoint), load_policy(tmp_path / "out")
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert tok.pad_token_id is not None


def test_a_hub_id_without_a_hub_and_a_missing_path_are_one_line_errors(tmp_path, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    with pytest.raises(InputError, match=r"cannot load Qwen/Qwen2.5-Math-7B \(a hub model, and no hub is reachable\)"):
        pretrained_checkpoint("Qwen/Qwen2.5-Math-7B", tmp_path / "out")
    with pytest.raises(InputError, match=r"missing model: .*nowhere/at/all is neither smollm2"):
        pretrained_checkpoint(str(tmp_path / "nowhere" / "at" / "all"), tmp_path / "out")
    assert not (tmp_path / "out").exists()
