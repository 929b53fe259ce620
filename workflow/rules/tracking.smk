# One MLflow parent run per invocation that runs jobs (dapo.tracking): it holds the experiment's
# params and, when the invocation built the table, the table's metrics; the invocation's stage
# runs nest under it, because every job inherits DAPO_PIPELINE_RUN from this process (sbatch
# exports the environment to slurm jobs too). A dry run, or one with nothing to do, opens none.
import os
import time

from dapo import tracking  # noqa: E402
from dapo.params import load_params  # noqa: E402

PIPELINE_STARTED = time.time()


onstart:
    run_id = tracking.start_pipeline_run(load_params(PARAMS))
    if run_id:
        os.environ[tracking.PIPELINE_RUN] = run_id


onsuccess:
    tracking.end_pipeline_run(os.environ.get(tracking.PIPELINE_RUN), f"{ROOT}/tables/metrics.json",
                              PIPELINE_STARTED, "FINISHED")


onerror:
    tracking.end_pipeline_run(os.environ.get(tracking.PIPELINE_RUN), f"{ROOT}/tables/metrics.json",
                              PIPELINE_STARTED, "FAILED")
