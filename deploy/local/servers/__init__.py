"""The servers ``services.py`` runs, in start order."""

from __future__ import annotations

from servers.base import Service
from servers.kafka import Kafka
from servers.mlflow import MLflow
from servers.postgres import Postgres
from servers.questdb import QuestDB
from servers.redis import Redis

SERVICES: dict[str, type[Service]] = {
    "postgres": Postgres,
    "redis": Redis,
    "questdb": QuestDB,
    "kafka": Kafka,
    "mlflow": MLflow,
}
