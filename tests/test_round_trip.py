"""BPE round trip: the ids the actor scores (state text, then action text, each tokenised) must be
the ids the policy generated; the generate and complete stages check it on their samples."""

import pytest
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import PreTrainedTokenizerFast

from dapo.generation import Completion
from dapo.labelling import ROUND_TRIP_CHECKS, first_step_ids, round_trip_mismatch, token_lengths
from dapo.logprobs import encode_pairs, round_trip_error
from dapo.models import build_char_tokenizer
from dapo.tasks import get_task
from dapo.tasks.base import Task

CORPUS = ["x = 1\n\ny = 2\n", "def f():\n    return 1\n", "Step 1: 3 + 4 = 7.\n\nThe answer is 7.\n"] * 50


@pytest.fixture(scope="module")
def bpe():
    """A byte-level BPE like GPT-2's or SmolLM2's, trained here: it has a token for a newline
    followed by indentation."""
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(vocab_size=400, special_tokens=["<eos>"],
                                                        initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return PreTrainedTokenizerFast(tokenizer_object=tok, eos_token="<eos>", pad_token="<eos>")


def generated(tok, text):
    return tok(text, add_special_tokens=False)["input_ids"]


def test_a_token_across_a_step_boundary_is_found_and_the_action_keeps_its_sampled_ids(bpe):
    response = "def f():\n    return 1"
    ids = generated(bpe, response)
    step = Task.split_steps(response)[0]
    assert step == "def f():\n"
    assert round_trip_error(bpe, "", ids, Task.split_steps(response)) == 0  # "\n   " is one token
    action = first_step_ids(tuple(ids), token_lengths(bpe), step)
    assert action == ids[:len(action)] and bpe.decode(action).startswith(step) and bpe.decode(action) != step
    # the actor scores exactly those ids after the state, not the step's text re-tokenised
    input_ids, _, mask = encode_pairs(bpe, ["Q\n"], [step], [False], [action])
    assert input_ids[0][mask[0]].tolist() == action
    assert encode_pairs(bpe, ["Q\n"], [step], [False])[0][0][mask[0]].tolist() != action


def test_the_char_tokenizer_always_round_trips():
    tok = build_char_tokenizer()
    response = "12 + 7 = 19\n\n19 - 3 = 16\nA: 16"
    ids = generated(tok, response)
    assert round_trip_error(tok, "Q: 12 + 7 - 3\n", ids, Task.split_steps(response)) is None
    step = Task.split_steps(response)[0]
    assert first_step_ids(tuple(ids), token_lengths(tok), step) == generated(tok, step)


def test_the_mismatch_rate_counts_what_it_checked_and_skips_completions_without_ids(bpe):
    task = get_task("chain_sum")
    fine, split = "x = 1\n\ny = 2\n", "def f():\n    return 1"
    completions = [Completion(t, 0, True, tuple(generated(bpe, t))) for t in (fine, split)]
    n = ROUND_TRIP_CHECKS + 5
    assert round_trip_mismatch(bpe, task, ["Q\n"] * n, completions * n) == (ROUND_TRIP_CHECKS, ROUND_TRIP_CHECKS // 2)
    assert round_trip_mismatch(bpe, task, ["Q\n"] * 3, [Completion(fine, 0, True)] * 3) == (0, 0)
