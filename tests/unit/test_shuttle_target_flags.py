"""Target config from shuttle flags: every contract key has a flag, ``--config`` covers the rest."""

from __future__ import annotations

import pytest

from loom.errors import InvalidArgument
from loom.models.target import CONFIGS
from loom.shuttle.context import agent_type_option
from loom.shuttle.target_flags import APPLIES, MECHANISMS, MechanismFlags, build_config, check_with_model
from loom.weft.targets import build_target
from tests.readme_targets import examples

# The mechanism configs of INTERFACES §2 (plus ssh's acceptNewHostKeys and kubernetes' tokenEnv).
CONTRACT_KEYS = {
    "local": {"command", "cwd", "env"},
    "ssh": {"host", "port", "user", "identityFile", "knownHosts", "acceptNewHostKeys", "command"},
    "webhook": {"url", "method", "headers", "secret"},
    "kubernetes": {
        "namespace", "image", "apiServer", "kubeconfig", "serviceAccount", "tokenEnv", "env", "resources",
    },
    "github-actions": {"repo", "workflow", "ref", "tokenEnv", "apiUrl", "inputs"},
}  # fmt: skip


def flag_keys(mechanism: str) -> set[str]:
    return {keys[mechanism] for keys in APPLIES.values() if mechanism in keys}


@pytest.mark.parametrize("mechanism", MECHANISMS)
def test_every_contract_key_has_a_flag_and_every_flag_a_model_key(mechanism: str) -> None:
    model_keys = {field.alias for field in CONFIGS[mechanism].model_fields.values()}
    assert CONTRACT_KEYS[mechanism] <= flag_keys(mechanism)
    assert flag_keys(mechanism) <= model_keys


def test_new_flags_set_their_keys() -> None:
    ssh = MechanismFlags(host="h", user="u", command="loom agent run", accept_new_host_keys=True)
    assert build_config("ssh", ssh)["acceptNewHostKeys"] is True
    off = build_config("ssh", MechanismFlags(accept_new_host_keys=False), partial=True)
    assert off == {"acceptNewHostKeys": False}
    k8s = MechanismFlags(
        namespace="n", image="i", token_env="K8S_TOKEN", resources='{"limits": {"cpu": "2"}}'
    )
    assert build_config("kubernetes", k8s) == {
        "namespace": "n",
        "image": "i",
        "tokenEnv": "K8S_TOKEN",
        "resources": {"limits": {"cpu": "2"}},
    }


def test_config_json_fills_in_keys_without_flags_and_counts_for_required_ones() -> None:
    flags = MechanismFlags(image="i", config='{"namespace": "n", "resources": null}')
    assert build_config("kubernetes", flags) == {"namespace": "n", "resources": None, "image": "i"}
    removal = build_config("webhook", MechanismFlags(config='{"secret": null}'), partial=True)
    assert removal == {"secret": None}


@pytest.mark.parametrize(
    ("mechanism", "flags", "field"),
    [
        ("kubernetes", MechanismFlags(namespace="n", image="i", resources="[1]"), "--resources"),
        ("kubernetes", MechanismFlags(namespace="n", image="i", resources="{oops"), "--resources"),
        ("webhook", MechanismFlags(url="http://h", config='{"url": "http://other"}'), "--config"),
        ("webhook", MechanismFlags(url="http://h", config="[]"), "--config"),
        ("webhook", MechanismFlags(url="http://h", config="not json"), "--config"),
        ("ssh", MechanismFlags(host="h", user="u", accept_new_host_keys=True), "--command"),
        ("webhook", MechanismFlags(url="http://h", accept_new_host_keys=True), "--accept-new-host-keys"),
    ],
)
def test_bad_new_flags_name_the_flag(mechanism: str, flags: MechanismFlags, field: str) -> None:
    with pytest.raises(InvalidArgument) as caught:
        build_config(mechanism, flags)
    assert caught.value.field == field


def test_model_errors_name_the_flag_or_the_config_key_that_set_the_value() -> None:
    by_flag = MechanismFlags(namespace="n", image="i", k8s_api_server="http://k")
    by_json = MechanismFlags(host="h", user="u", command="c", config='{"port": "ssh"}')
    unknown = MechanismFlags(host="h", user="u", command="c", config='{"colour": "blue"}')
    for mechanism, flags, field in (
        ("kubernetes", MechanismFlags(namespace="x" * 64, image="i"), "--namespace"),
        ("ssh", by_json, "--config.port"),
        ("ssh", unknown, "--config.colour"),
    ):
        with pytest.raises(InvalidArgument) as caught:
            check_with_model(mechanism, build_config(mechanism, flags), flags)
        assert caught.value.field == field
    check_with_model("kubernetes", build_config("kubernetes", by_flag), by_flag)


def test_a_webhook_url_is_not_repeated_in_its_error() -> None:
    with pytest.raises(InvalidArgument) as caught:
        build_config("webhook", MechanismFlags(url="ftp://h/?token=abc123"))
    assert "abc123" not in caught.value.message


def test_agent_types_are_trimmed_and_bounded() -> None:
    assert agent_type_option("  claude-code ", "--type") == "claude-code"
    assert agent_type_option(None, "--type") is None
    for bad in ("", "   ", "x" * 65):
        with pytest.raises(InvalidArgument) as caught:
            agent_type_option(bad, "--required-agent-type")
        assert caught.value.field == "--required-agent-type"


def test_readme_has_a_valid_json_example_for_every_mechanism() -> None:
    found = examples()
    assert [e.mechanism for e in found] == list(MECHANISMS)
    for example in found:
        assert example.body["mechanism"] == example.mechanism
        assert build_target(example.body).mechanism == example.mechanism
        assert example.argv[:2] == ["targets", "add"]
