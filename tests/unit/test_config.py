"""Settings: env over file, validation naming the variable, secrets kept out of reprs."""

from __future__ import annotations

from pathlib import Path

import pytest

from loom.config import load_settings
from loom.errors import InvalidArgument


def test_environment_wins_over_file(tmp_path: Path) -> None:
    cfg = tmp_path / "loom.toml"
    cfg.write_text('NATS_URL = "nats://file:4222"\nproject_id = "from-file"\nreplicas = 3\n')
    settings = load_settings(env={"NATS_URL": "nats://env:4222"}, config_path=cfg, cwd=tmp_path)
    assert settings.nats_url == "nats://env:4222"
    assert settings.project_id == "from-file"
    assert settings.replicas == 3


def test_project_file_is_found_at_the_git_root(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / ".loom.toml").write_text('LOOM_PROJECT_ID = "rooted"\n')
    sub = tmp_path / "a" / "b"
    sub.mkdir(parents=True)
    assert load_settings(env={}, cwd=sub).project_id == "rooted"


def test_default_project_is_the_slug_of_the_root(tmp_path: Path) -> None:
    root = tmp_path / "My Repo.v2"
    root.mkdir()
    assert load_settings(env={}, cwd=root).project_id == "my-repo-v2"


@pytest.mark.parametrize(
    ("env", "field"),
    [
        ({"LOOM_PROJECT_ID": "Bad_Project"}, "LOOM_PROJECT_ID"),
        ({"LOOM_PROJECT_ID": "a.b"}, "LOOM_PROJECT_ID"),
        ({"LOOM_REPLICAS": "0"}, "LOOM_REPLICAS"),
        ({"LOOM_HEARTBEAT_SECONDS": "abc"}, "LOOM_HEARTBEAT_SECONDS"),
        ({"NATS_URL": "http://x:4222"}, "NATS_URL"),
    ],
)
def test_bad_values_name_the_variable(tmp_path: Path, env: dict[str, str], field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        load_settings(env=env, cwd=tmp_path)
    assert caught.value.field == field


def test_unknown_file_key_is_an_error(tmp_path: Path) -> None:
    cfg = tmp_path / "c.toml"
    cfg.write_text('natsurl = "x"\n')
    with pytest.raises(InvalidArgument, match="unknown key 'natsurl'"):
        load_settings(env={}, config_path=cfg, cwd=tmp_path)


def test_secrets_do_not_appear_in_repr(tmp_path: Path) -> None:
    settings = load_settings(
        env={"NATS_PASSWORD": "pw-123", "NATS_TOKEN": "tok-456", "LOOM_API_TOKEN": "a,b"}, cwd=tmp_path
    )
    assert "pw-123" not in repr(settings) and "tok-456" not in repr(settings)
    assert settings.api_tokens == {"a", "b"}
