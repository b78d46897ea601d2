# Logs to the trainer with the real mlflow client, as a team's own training code would, and prints what it
# reads back as one JSON line. The tracking URI, token and experiment name come from the environment.
import json
import os
import tempfile

import mlflow
from mlflow import MlflowClient
from mlflow.entities import Dataset, DatasetInput, InputTag
from mlflow.exceptions import MlflowException

mlflow.set_tracking_uri(os.environ["TRACKING_URI"])  # MLFLOW_TRACKING_TOKEN is read by the client itself
experiment = mlflow.set_experiment(os.environ["EXPERIMENT"])
again = mlflow.set_experiment(os.environ["EXPERIMENT"])  # the second time finds it by name

with mlflow.start_run(run_name="client-run") as run:
    mlflow.log_param("max_depth", 5)
    mlflow.log_params({"learning_rate": 0.1, "algorithm": "gbdt"})
    for step in range(3):
        mlflow.log_metric("loss", 1.0 / (step + 1), step=step)
    mlflow.log_metrics({"auc": 0.91, "f1": 0.8})
    mlflow.set_tag("team", "risk")
    # The datasets it used (mlflow.log_input sends the same request; its dataset classes need the full mlflow).
    source = json.dumps({"url": "https://example.com/churn.parquet"})
    MlflowClient().log_inputs(
        run.info.run_id,
        datasets=[
            DatasetInput(
                dataset=Dataset(name="churn-train", digest="abc123", source_type="http", source=source),
                tags=[InputTag(key="mlflow.data.context", value="training")],
            ),
            DatasetInput(
                dataset=Dataset(name="churn-eval", digest="def456", source_type="http", source=source, schema='{"c": 1}'),
                tags=[InputTag(key="mlflow.data.context", value="eval")],
            ),
        ],
    )
    notes = os.path.join(tempfile.mkdtemp(), "notes.txt")
    with open(notes, "w") as f:
        f.write("hello artifacts")
    mlflow.log_artifact(notes)
    mlflow.log_artifact(notes, artifact_path="docs")
    with mlflow.start_run(run_name="trial-1", nested=True) as child:
        mlflow.log_metric("auc", 0.5)
    run_id = run.info.run_id
    child_id = child.info.run_id

with mlflow.start_run(run_name="other-run") as other:
    mlflow.log_metric("auc", 0.95)
    mlflow.log_param("max_depth", 3)

client = MlflowClient()
got = client.get_run(run_id)
found = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id],
    filter_string="metrics.auc > 0.85 AND params.max_depth = '5' AND tags.team = 'risk'",
    output_format="list",
)
ordered = mlflow.search_runs(
    experiment_ids=[experiment.experiment_id], order_by=["metrics.auc DESC"], output_format="list"
)
history = client.get_metric_history(run_id, "loss")
downloaded = client.download_artifacts(run_id, "notes.txt", tempfile.mkdtemp())
listed = client.list_artifacts(run_id)

try:
    client.log_param(run_id, "max_depth", 6)
    changed_param_error = None
except MlflowException as error:
    changed_param_error = error.error_code

experiments = client.search_experiments(filter_string=f"name = '{os.environ['EXPERIMENT']}'")

print(
    json.dumps(
        {
            "experiment_id": experiment.experiment_id,
            "same_experiment": again.experiment_id == experiment.experiment_id,
            "run_id": run_id,
            "child_id": child_id,
            "other_id": other.info.run_id,
            "artifact_uri": got.info.artifact_uri,
            "status": got.info.status,
            "end_time": got.info.end_time,
            "params": got.data.params,
            "metrics": got.data.metrics,
            "tags": {k: v for k, v in got.data.tags.items() if not k.startswith("mlflow.source")},
            "history": [[m.step, m.value] for m in history],
            "found": [r.info.run_id for r in found],
            "ordered": [r.info.run_name for r in ordered],
            "downloaded": open(downloaded).read(),
            "listed": sorted([f.path, f.is_dir] for f in listed),
            "changed_param_error": changed_param_error,
            "experiments": [e.name for e in experiments],
            "missing_experiment": mlflow.get_experiment_by_name(os.environ["EXPERIMENT"] + "-missing") is None,
            "inputs": [
                [i.dataset.name, i.dataset.digest, i.dataset.source_type, i.dataset.schema, {t.key: t.value for t in i.tags}]
                for i in got.inputs.dataset_inputs
            ],
        }
    )
)
