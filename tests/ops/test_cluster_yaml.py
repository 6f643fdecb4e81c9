"""cluster.yaml passes Ray's own cluster-launcher checks (defaults filled in as `ray up` does),
and its node types, resources and commands fit the server's settings."""

from __future__ import annotations

import shlex

import pytest
import yaml
from ray.autoscaler._private.util import prepare_config, validate_config

from api.settings import Settings
from tests.test_server_e2e import ROOT


@pytest.fixture(scope="module")
def cluster() -> dict:
    """The config as `ray up` validates it: merged with the provider's defaults."""
    config = prepare_config(yaml.safe_load((ROOT / "cluster.yaml").read_text()))
    validate_config(config)
    return config


def _serve_command(cluster: dict) -> list[str]:
    commands = [shlex.split(command) for command in cluster["head_start_ray_commands"]]
    return next(words for words in commands if "serve" in words and "peerprep" in words)


def _assignments(words: list[str]) -> dict[str, str]:
    return dict(word.split("=", 1) for word in words if "=" in word and word.split("=", 1)[0].isupper())


def test_the_head_starts_ray_then_the_fronts_on_that_cluster(cluster):
    head_commands = " ; ".join(cluster["head_start_ray_commands"])
    assert "ray start --head --port=6379" in head_commands
    assert head_commands.index("ray start --head") < head_commands.index("peerprep serve")
    serve = _serve_command(cluster)
    assert _assignments(serve)["RAY_ADDRESS"] == "auto"
    assert serve[serve.index("--workers") + 1].isdigit()


def test_the_fronts_environment_is_valid_settings(cluster):
    settings = Settings(
        _env_file=None, **{name.lower(): value for name, value in _assignments(_serve_command(cluster)).items()}
    )
    assert settings.ray_address == "auto"
    offered = {name for node_type in cluster["available_node_types"].values() for name in node_type["resources"]}
    assert {settings.actor_host_resource, settings.judge_ray_resource} <= offered


def test_judges_and_room_hosts_have_node_types_of_their_own(cluster):
    types = cluster["available_node_types"]
    head = cluster["head_node_type"]
    judge = [name for name, node_type in types.items() if node_type["resources"].get("judge", 0) >= 1]
    rooms = [name for name, node_type in types.items() if node_type["resources"].get("room_host", 0) >= 1]
    assert judge and head not in judge
    assert rooms and head not in rooms and not set(rooms) & set(judge)
    for name in (*judge, *rooms):
        assert 0 <= types[name]["min_workers"] <= types[name]["max_workers"] <= cluster["max_workers"]


def test_workers_join_the_head_and_every_node_installs_the_project(cluster):
    assert any("ray start --address=$RAY_HEAD_IP:6379" in command for command in cluster["worker_start_ray_commands"])
    project = next(remote for remote, local in cluster["file_mounts"].items() if local == ".")
    setup = cluster["setup_commands"]
    assert any(f"pip install -q {project} -c {project}/constraints.txt" in command for command in setup)
    assert any("bubblewrap" in command for command in setup)
