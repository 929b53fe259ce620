"""The interface every task implements (STYLE principle 8)."""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from typing import Any

_INTEGER_ANSWER = re.compile(r"A: (-?\d+)")


def final_integer_answer(response: str) -> str | None:
    """The integer of the response's one final-answer line `A: <n>`, which must be its last line;
    None when there is no such line, several, or junk after it."""
    lines = response.split("\n")
    if sum(line.startswith("A:") for line in lines) != 1:
        return None
    match = _INTEGER_ANSWER.fullmatch(lines[-1])
    return match.group(1) if match else None


class Task(ABC):
    """A reasoning task: problems with gold answers, a prompt format, steps, and a binary verifier.

    A problem is a JSON-serialisable dict with at least `id`, `prompt` and `answer`; tasks may keep
    more keys (the generator's own entry) for their verifier.
    """

    name: str
    #: identifies the prompt format; logged with every score so results stay comparable
    template_id: str
    #: the generator settings a params file may give (data.train, data.benchmarks.*)
    config_keys: frozenset[str]
    #: whether `write_solution` can write SFT data; without it an experiment starts from a pretrained model
    writes_solutions: bool = True

    @abstractmethod
    def make_problems(self, config: dict[str, Any], size: int, seed: int) -> list[dict]:
        """Deterministic problems for one split: same (config, size, seed), same list."""

    @abstractmethod
    def render_prompt(self, problem: dict) -> str:
        """The problem as plain text (see `policy_prompt` for what a model reads)."""

    def policy_prompt(self, problem: dict, tokenizer=None) -> str:
        """The prompt as the model of `tokenizer` reads it: when the tokenizer has a chat template,
        the plain prompt is the user's turn and the assistant's turn is opened, so the response
        (and every state's prefix) continues it; otherwise the plain prompt (the char tokenizer)."""
        text = self.render_prompt(problem)
        if tokenizer is None or not getattr(tokenizer, "chat_template", None):
            return text
        return tokenizer.apply_chat_template([{"role": "user", "content": text}], tokenize=False,
                                             add_generation_prompt=True)

    @abstractmethod
    def write_solution(self, problem: dict) -> str:
        """A correct step-by-step response (one step per line, final-answer line last), for SFT."""

    def write_habit(self, problem: dict) -> str:
        """A response written by a plausible but unplanned heuristic (`sft.habit_fraction`): the
        same step format, legal steps, often a wrong final answer. Tasks without one raise."""
        raise NotImplementedError(f"task {self.name!r} has no habit writer; set sft.habit_fraction: 0")

    @abstractmethod
    def extract_answer(self, response: str) -> str | None:
        """The single final answer of a response, or None when there is none, several, or junk."""

    @abstractmethod
    def verify(self, problem: dict, response: str) -> bool:
        """Binary reward of the paper: True iff the response's final answer is exactly correct."""

    def difficulty(self, problem: dict) -> tuple:
        """The problem's difficulty key (e.g. its size); splits of one pool share its histogram."""
        raise NotImplementedError(f"task {self.name!r} defines no difficulty key")

    def error_kind(self, problem: dict, response: str) -> str | None:
        """Why a response fails ('correct' if it does not), for tasks that can tell; else None."""
        return None

    def oracle_value(self, problem: dict, prefix: str) -> float:
        """Exact value of a state: 1.0 iff the response prefix (whole lines) can still end correct.

        Only tasks that can decide it exactly implement it (`advantages.value_source: oracle`).
        """
        raise NotImplementedError(f"task {self.name!r} has no exact step values; "
                                  "use advantages.value_source: critic")

    @staticmethod
    def split_steps(response: str) -> list[str]:
        """Split a response into steps at single newlines (paper section 3: one step per line).

        Each step keeps its terminating newline, so ``"".join(split_steps(r)) == r`` and every
        state s_t = prompt + steps[0] + ... + steps[t-1] is a plain string prefix of the response.
        An empty response has no steps.
        """
        if not response:
            return []
        steps = response.split("\n")
        out = [s + "\n" for s in steps[:-1]]
        if steps[-1]:
            out.append(steps[-1])
        return out


def reasoning_gym():
    """reasoning_gym, imported on first use: importing it costs about half a second, and the
    training stages, which never draw or grade a problem, would pay it at every start."""
    import reasoning_gym

    return reasoning_gym


def verifier_reward(task: Task, problems: dict[str, dict]) -> Callable[..., list[float]]:
    """The paper's binary outcome reward as a TRL reward function: 1.0 where the completion's final
    answer is exactly correct for its problem, else 0.0. TRL passes the dataset's `prompt_id` column
    beside the completions, row for row."""

    def correct(prompts, completions, prompt_id, **kwargs) -> list[float]:
        return [float(task.verify(problems[p], c)) for p, c in zip(prompt_id, completions)]

    correct.__name__ = f"{task.name}_correct"  # TRL names the reward's metrics after the function
    return correct
