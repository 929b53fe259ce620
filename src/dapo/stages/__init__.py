"""Thin per-rule CLIs: `python -m dapo.stages.<stage>`. Parse paths, validate the params section,
call the library, write outputs atomically, log to MLflow. No algorithm lives here."""

import time

# when the job's process began, as near as the package can tell: `python -m dapo.stages.<stage>`
# imports this package before torch and the rest, so job_seconds includes the imports
STARTED = time.time()
