# Drives the registry's MLflow Model Registry API with the real mlflow client, as a team's own code would, and
# prints what it read as one JSON line. URIs, token and model names come from the environment; the test set up
# TRAINED (v1 in production, v2 rejected), UPLOADED (one uploaded ONNX version) and BAD (v1 marked bad).
import hashlib
import json
import os

import requests
from mlflow import MlflowClient
from mlflow.exceptions import MlflowException

registry = os.environ["REGISTRY_URI"]
# Registry calls never reach the tracking server (the trainer in real use): here an address nothing answers on.
client = MlflowClient(tracking_uri=os.environ["TRACKING_URI"], registry_uri=registry)
trained, uploaded, bad = os.environ["TRAINED"], os.environ["UPLOADED"], os.environ["BAD"]
prefix = os.environ["PREFIX"]


def error_of(call):
    try:
        call()
        return None
    except MlflowException as error:
        return error.error_code


model = client.get_registered_model(trained)
first_page = client.search_registered_models(filter_string=f"name LIKE '{prefix}%'", max_results=2)
second_page = client.search_registered_models(
    filter_string=f"name LIKE '{prefix}%'", max_results=2, page_token=first_page.token
)
exact = client.search_registered_models(filter_string=f"name = '{uploaded}'")
latest = client.get_latest_versions(trained, stages=["Production"])

client.set_registered_model_tag(trained, "team", "risk")
tags_after_set = dict(client.get_registered_model(trained).tags)
client.delete_registered_model_tag(trained, "team")
tags_after_delete = dict(client.get_registered_model(trained).tags)

client.set_registered_model_alias(trained, "staging", "2")
staged = client.get_model_version_by_alias(trained, "staging")
bad_alias_error = error_of(lambda: client.set_registered_model_alias(bad, "production", "1"))
delete_alias_error = error_of(lambda: client.delete_registered_model_alias(trained, "staging"))

version = client.get_model_version(trained, "1")
by_name = client.search_model_versions(f"name='{trained}'")
by_run = client.search_model_versions(f"run_id='{version.run_id}'")

uri = client.get_model_version_download_uri(uploaded, "1")
download = requests.get(uri, headers={"Authorization": f"Bearer {os.environ['MLFLOW_TRACKING_TOKEN']}"}, timeout=30)

admin_token = os.environ["MLFLOW_TRACKING_TOKEN"]
os.environ["MLFLOW_TRACKING_TOKEN"] = os.environ["READER_TOKEN"]  # read by the client on every request
reader_read = client.get_registered_model(trained).name
reader_alias_error = error_of(lambda: client.set_registered_model_alias(trained, "staging", "1"))
os.environ["MLFLOW_TRACKING_TOKEN"] = admin_token

print(
    json.dumps(
        {
            "name": model.name,
            "aliases": model.aliases,
            "latest_stages": sorted([v.version, v.current_stage] for v in model.latest_versions),
            "first_page": [m.name for m in first_page],
            "second_page": [m.name for m in second_page],
            "second_token": second_page.token,
            "exact": [m.name for m in exact],
            "latest_production": [v.version for v in latest],
            "tags_after_set": tags_after_set,
            "tags_after_delete": tags_after_delete,
            "staged": [staged.version, staged.current_stage, list(staged.aliases)],
            "bad_alias_error": bad_alias_error,
            "delete_alias_error": delete_alias_error,
            "version": {
                "run_id": version.run_id,
                "source": version.source,
                "status": version.status,
                "stage": version.current_stage,
                "aliases": list(version.aliases),
            },
            "by_name": [v.version for v in by_name],
            "by_run": [[v.name, v.version] for v in by_run],
            "download_uri": uri,
            "download_status": download.status_code,
            "download_sha256": hashlib.sha256(download.content).hexdigest(),
            "reader_read": reader_read,
            "reader_alias_error": reader_alias_error,
            "missing_model_error": error_of(lambda: client.get_registered_model(f"{prefix}-missing")),
            "create_model_error": error_of(lambda: client.create_registered_model(f"{prefix}-new")),
            "transition_error": error_of(lambda: client.transition_model_version_stage(trained, "1", "Staging")),
            "rename_error": error_of(lambda: client.rename_registered_model(trained, f"{prefix}-renamed")),
            "create_version_error": error_of(
                lambda: client.create_model_version(trained, "s3://bucket/model", run_id=version.run_id)
            ),
        }
    )
)
