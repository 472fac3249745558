"""The report's schema: what evaluation scores, as typed records, and report.json.

A report holds one `TaskScores` per evaluation task (query encoder -> database
encoder); the first task's scores are the headline. Every reader (tfhash-train,
tfhash-eval, tfhash-export, tfhash-index, benchmarks/) reads report.json through
`load_report`, so none of them needs to be told the run's `top_k` or radius.

report.json keeps the layout every earlier tfhash wrote (the first task's metrics
also at the top level; `map_at_<k>`, `precision_at_radius_<r>` and
`empty_radius_<r>_fraction` keys), and adds `top_k` and `radius` to each block.
"""

import dataclasses
import json
import re
from typing import Dict, List, Optional

TASK_SEPARATOR = "->"


def task_name(task):
    """("image", "text") -> "image->text"."""
    return f"{task[0]}{TASK_SEPARATOR}{task[1]}"


@dataclasses.dataclass
class TaskScores:
    """The scores of one evaluation task.

    Attributes:
      map_all: mAP over the whole database (Hamming ranking, ties by position).
      map_at_k, top_k: mAP of the top `top_k` results.
      precision_at_radius, radius, empty_radius_fraction: precision of the results
        within Hamming distance `radius`, and the share of queries that found none.
      precision_at_k: N -> precision of the top N.
      chance_map_all: mAP@all of uniformly random codes on the same labels.
      code_health: the database codes' bit balance, mean absolute bit correlation,
        constant bits, distinct codes and largest bucket share.
    """

    map_all: float
    map_at_k: float
    top_k: int
    precision_at_radius: float
    radius: int
    empty_radius_fraction: float
    precision_at_k: Dict[int, float]
    chance_map_all: Optional[float] = None
    code_health: Optional[dict] = None

    def to_json(self):
        block = {
            "map_all": self.map_all,
            f"map_at_{self.top_k}": self.map_at_k,
            f"precision_at_radius_{self.radius}": self.precision_at_radius,
            f"empty_radius_{self.radius}_fraction": self.empty_radius_fraction,
            "precision_at_k": {int(k): v for k, v in self.precision_at_k.items()},
        }
        if self.chance_map_all is not None:
            block["chance_map_all"] = self.chance_map_all
        if self.code_health is not None:
            block["code_health"] = self.code_health
        block.update(top_k=int(self.top_k), radius=int(self.radius))
        return block

    @classmethod
    def from_json(cls, block):
        """A block of report.json, with or without its `top_k` / `radius` entries."""
        top_k = block.get("top_k")
        radius = block.get("radius")
        if top_k is None:
            top_k = int(next(m.group(1) for m in map(re.compile(r"map_at_(\d+)$").match, block)
                             if m))
        if radius is None:
            radius = int(next(m.group(1) for m in
                              map(re.compile(r"precision_at_radius_(\d+)$").match, block) if m))
        return cls(map_all=block["map_all"], map_at_k=block[f"map_at_{top_k}"], top_k=top_k,
                   precision_at_radius=block[f"precision_at_radius_{radius}"], radius=radius,
                   empty_radius_fraction=block[f"empty_radius_{radius}_fraction"],
                   precision_at_k={int(k): v for k, v in block.get("precision_at_k", {}).items()},
                   chance_map_all=block.get("chance_map_all"),
                   code_health=block.get("code_health"))


@dataclasses.dataclass
class Report:
    """report.json, typed. `tasks` is ordered: the first task is the headline."""

    method: str
    dataset: str
    protocol: dict
    split_checksum: str
    bits: int
    backbone: str
    image_size: int
    num_query: int
    num_train: int
    num_database: int
    num_validation: int
    tasks: Dict[str, TaskScores]
    encoders: dict
    epochs: Optional[int] = None
    train_seconds: Optional[float] = None
    images_per_second: Optional[float] = None
    metrics_seconds: Optional[float] = None
    config_hash: Optional[str] = None
    validation: List[dict] = dataclasses.field(default_factory=list)

    @property
    def headline(self):
        """The first task's scores."""
        return next(iter(self.tasks.values()))

    @property
    def map_all(self):
        return self.headline.map_all

    def to_json(self):
        head = {k: getattr(self, k) for k in (
            "method", "dataset", "protocol", "split_checksum", "bits", "backbone", "image_size",
            "num_query", "num_train", "num_database", "num_validation")}
        tail = {k: getattr(self, k) for k in (
            "epochs", "train_seconds", "images_per_second", "metrics_seconds", "config_hash",
            "validation")}
        blocks = {name: scores.to_json() for name, scores in self.tasks.items()}
        return {**head, **next(iter(blocks.values())), "tasks": blocks, "encoders": self.encoders,
                **tail}

    @classmethod
    def from_json(cls, record):
        tasks = record.get("tasks") or {"image->image": record}
        fields = {f.name for f in dataclasses.fields(cls)} - {"tasks"}
        known = {k: v for k, v in record.items() if k in fields}
        known.setdefault("encoders", {})
        known.setdefault("num_validation", 0)
        return cls(tasks={name: TaskScores.from_json(block) for name, block in tasks.items()},
                   **known)


def load_report(path):
    """The `Report` in a report.json (written by this tfhash or an earlier one)."""
    with open(path) as f:
        return Report.from_json(json.load(f))
