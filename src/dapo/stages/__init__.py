"""Thin per-rule CLIs: `python -m dapo.stages.<stage>`. Parse paths, validate the params section,
call the library, write outputs atomically, log to MLflow. No algorithm lives here."""
