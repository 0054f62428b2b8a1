"""``kubernetes``: a ``batch/v1`` Job created through the Kubernetes API (kubernetes_asyncio).

Credentials are found the way Kubernetes clients find them, first match wins:
``apiServer`` with a bearer token from the env var named by ``tokenEnv``; a ``kubeconfig``
file; the pod's service account when Weft runs in a cluster; the default kubeconfig
(``$KUBECONFIG`` or ``~/.kube/config``).
"""

from __future__ import annotations

import json
import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any, cast

# kubernetes_asyncio is imported where it is used: loading it costs ~50 MB and a second of
# start-up in every Weft, most of which never launch on Kubernetes.
from loom.models.target import KubernetesConfig
from loom.weft.spinup.base import TIMEOUT, LaunchError, LaunchRequest

CHECK_TIMEOUT = 5.0


def job_manifest(config: KubernetesConfig, request: LaunchRequest) -> dict[str, object]:
    """The Job Weft creates; deploy/kubernetes/agent-job.yaml is the same shape for kubectl users."""
    labels = {"loom.target": request.target.name, "loom.project": request.project}
    if request.work_id:
        labels["loom.work-id"] = request.work_id
    env = [{"name": k, "value": v} for k, v in {**config.env, **request.fields()}.items()]
    container: dict[str, object] = {"name": "agent", "image": config.image, "env": env}
    if config.env_from_secrets:
        container["envFrom"] = [{"secretRef": {"name": name}} for name in config.env_from_secrets]
    if config.resources:
        container["resources"] = config.resources
    pod: dict[str, object] = {"restartPolicy": "Never", "containers": [container]}
    if config.service_account:
        pod["serviceAccountName"] = config.service_account
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"generateName": f"loom-{request.target.name}-", "labels": labels},
        "spec": {
            "backoffLimit": config.backoff_limit,
            "ttlSecondsAfterFinished": config.ttl_seconds_after_finished,
            "template": {"metadata": {"labels": labels}, "spec": pod},
        },
    }


async def _configuration(config: KubernetesConfig) -> Any:
    from kubernetes_asyncio import client as k8s
    from kubernetes_asyncio import config as k8s_config
    from kubernetes_asyncio.config.config_exception import ConfigException

    configuration = k8s.Configuration()
    if config.api_server:
        token = os.environ.get(config.token_env)
        if not token:
            raise LaunchError(f"no Kubernetes token: apiServer is set but ${config.token_env} is empty")
        configuration.host = config.api_server.rstrip("/")
        configuration.api_key = {"BearerToken": token}
        configuration.api_key_prefix = {"BearerToken": "Bearer"}
        configuration.ssl_ca_cert = config.ca_file
        return configuration
    try:
        if config.kubeconfig:
            await k8s_config.load_kube_config(
                config_file=config.kubeconfig, client_configuration=configuration, persist_config=False
            )
            return configuration
        try:
            k8s_config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except ConfigException:
            await k8s_config.load_kube_config(client_configuration=configuration, persist_config=False)
    except (ConfigException, OSError) as exc:
        raise LaunchError(
            "no Kubernetes credentials: set apiServer (token in "
            f"${config.token_env}) or kubeconfig, or run Weft in a cluster ({exc.__class__.__name__})"
        ) from None
    return configuration


@asynccontextmanager
async def _api(config: KubernetesConfig) -> AsyncIterator[Any]:
    """An API client whose failures come out as ``LaunchError`` with the server's message."""
    import aiohttp
    from kubernetes_asyncio import client as k8s
    from kubernetes_asyncio.client.exceptions import ApiException

    async with k8s.ApiClient(await _configuration(config)) as api:
        try:
            yield api
        except ApiException as exc:
            raise LaunchError(f"Kubernetes answered {exc.status}: {_message(exc)}") from None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise LaunchError(f"cannot reach the Kubernetes API ({exc.__class__.__name__})") from None


def _message(exc: Any) -> str:
    """The ``message`` of the Status object Kubernetes sends with an error, else the reason."""
    try:
        return str(json.loads(exc.body or b"")["message"])[:300]
    except (TypeError, ValueError, KeyError):
        return str(exc.reason)


def _as_model(body: dict[str, Any]) -> Any:
    # The client serialises a plain dict body as it is; the dict stays the one source of truth
    # that deploy/'s Job template is checked against.
    return cast(Any, body)


async def launch_kubernetes(config: KubernetesConfig, request: LaunchRequest) -> str:
    from kubernetes_asyncio import client as k8s

    async with _api(config) as api:
        job = await k8s.BatchV1Api(api).create_namespaced_job(
            config.namespace, _as_model(job_manifest(config, request)), _request_timeout=TIMEOUT
        )
    return f"job {job.metadata.name}"


async def check_kubernetes(config: KubernetesConfig) -> None:
    """Ask the API server whether our identity may create Jobs in the namespace (``can-i``)."""
    review = {
        "apiVersion": "authorization.k8s.io/v1",
        "kind": "SelfSubjectAccessReview",
        "spec": {
            "resourceAttributes": {
                "namespace": config.namespace,
                "verb": "create",
                "group": "batch",
                "resource": "jobs",
            }
        },
    }
    from kubernetes_asyncio import client as k8s

    async with _api(config) as api:
        answer = await k8s.AuthorizationV1Api(api).create_self_subject_access_review(
            _as_model(review), _request_timeout=CHECK_TIMEOUT
        )
    if not answer.status.allowed:
        reason = answer.status.reason or "no RBAC rule allows it"
        raise LaunchError(f"may not create Jobs in namespace {config.namespace}: {reason}")
