"""Records for ingestion from Python with confluent-kafka (pip install -r requirements.txt).

Three ways, pick the one your system already speaks:
  python producer.py record    # a CloudEvent in Kafka binary mode on mlops.data.record.v1
  python producer.py plain     # a plain JSON order on your own topic (shop.orders), fed by a subscription
  python producer.py cdc       # a Debezium-style change event on crm.public.customers
"""
import json
import os
import sys
import uuid
from datetime import datetime, timezone

from confluent_kafka import Producer

BROKERS = os.environ.get("KAFKA_BROKERS", "127.0.0.1:19092")
DATASET = os.environ.get("DATASET", "customer_activity")
CUSTOMER = os.environ.get("CUSTOMER_ID", "customer-000123")


def now() -> str:
    return datetime.now(timezone.utc).isoformat().replace("+00:00", "Z")


def delivered(err, msg):
    if err is not None:
        sys.exit(f"not delivered: {err}")
    print(f"delivered to {msg.topic()}[{msg.partition()}]@{msg.offset()}")


def main(kind: str) -> None:
    # enable.idempotence: acks=all and no duplicates from the producer's own retries.
    producer = Producer({"bootstrap.servers": BROKERS, "enable.idempotence": True})
    if kind == "record":
        data = {
            "dataset": DATASET,
            "entityId": CUSTOMER,
            "recordId": f"crm-{uuid.uuid4()}",
            "record": {"customer_id": CUSTOMER, "event_time": now(), "tenure_days": 412,
                       "monthly_spend": 39.9, "plan": "premium"},
        }
        headers = {"ce_specversion": "1.0", "ce_id": str(uuid.uuid4()), "ce_source": "urn:example:crm-python",
                   "ce_type": "mlops.data.record.v1", "ce_time": now(), "content-type": "application/json"}
        producer.produce("mlops.data.record.v1", key=f"{DATASET}/{CUSTOMER}", value=json.dumps(data),
                         headers=list(headers.items()), on_delivery=delivered)
    elif kind == "plain":
        producer.produce("shop.orders", key=CUSTOMER, value=json.dumps({"ordered_at": now(), "amount": 42.5}),
                         on_delivery=delivered)
    elif kind == "cdc":
        ts_ms = int(datetime.now(timezone.utc).timestamp() * 1000)
        row = {"id": 1001, "email": "ada@example.com", "plan": "basic", "tenure_days": 40, "updated_at": now()}
        change = {"before": None, "after": row, "op": "c", "ts_ms": ts_ms + 150, "transaction": None,
                  "source": {"connector": "postgresql", "name": "crm", "ts_ms": ts_ms, "db": "crm",
                             "schema": "public", "table": "customers"}}
        producer.produce("crm.public.customers", key=json.dumps({"id": 1001}), value=json.dumps(change),
                         on_delivery=delivered)
    else:
        sys.exit(__doc__)
    producer.flush(10)


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "")
