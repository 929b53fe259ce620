"""Rejection-sampling fine-tuning (RFT, Yuan et al. 2023, "Scaling relationship on learning
mathematical reasoning"), an outcome-level offline baseline beyond the paper: SFT of pi_0 on its own
correct responses, the very responses DAPO's generate stage sampled. Beside DAPO it answers whether
the step-level critic adds anything to keeping what ended correct.
"""

from __future__ import annotations

import pandas as pd


def rft_demonstrations(responses: pd.DataFrame) -> pd.DataFrame:
    """The correct responses, each distinct (prompt, response) once (RFT keeps distinct reasoning
    paths), sorted so that the training set does not depend on the sampling order.

    responses: the generate stage's table (prompt_id, response, correct).
    """
    correct = responses[responses["correct"].astype(bool)]
    return (correct.drop_duplicates(["prompt_id", "response"]).sort_values(["prompt_id", "response"])
            .reset_index(drop=True))
