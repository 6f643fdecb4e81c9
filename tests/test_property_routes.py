"""Schemathesis over every operation of the live server's OpenAPI document: never a 5xx.

The real `peerprep serve` (embedded Ray, the database under test, the test judge so that fuzzed
programs are not run) is called anonymously and as a normal user, a bounded and derandomized
number of examples per operation. The Server-Sent Event streams are left out: a request to
them only ends when the stream does. The sockets are not in the document.
"""

from __future__ import annotations

import subprocess

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error

from tests.services import free_port
from tests.test_server_e2e import PEERPREP, _env, _wait_until_up, stop

STREAMS = r"^/(match/subscribe|matching/subscribe|matching/events|events)(/|$)"
EXAMPLES = 25


@pytest.fixture(scope="module")
def live_server(database_url, tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("property")
    env = {**_env(database_url, data_dir / "var", free_port()), "JUDGE_BACKEND": "test", "LOG_LEVEL": "warning"}
    base = f"http://127.0.0.1:{env['PORT']}"
    process = subprocess.Popen([*PEERPREP, "serve"], env=env, cwd=data_dir, stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True)  # fmt: skip
    try:
        _wait_until_up(base, process)
        yield base
    finally:
        stop(process)


@pytest.fixture(scope="module")
def identities(live_server) -> list[dict[str, str]]:
    """The headers of each caller: an anonymous one and a normal user (an access token)."""
    account = {"username": "fuzzer", "email": "fuzzer@example.com", "password": "fuzz-pw"}
    httpx.post(f"{live_server}/users/register", json=account)
    login = httpx.post(f"{live_server}/users/login", json={"email": account["email"], "password": account["password"]})
    assert login.status_code == 200, login.text
    return [{}, {"Authorization": f"Bearer {login.cookies['jwt_access_token']}"}]


def test_no_operation_answers_a_server_error(live_server, identities):
    schema = schemathesis.openapi.from_url(f"{live_server}/openapi.json").exclude(path_regex=STREAMS)
    failures = []
    for result in schema.get_all_operations():
        operation = result.ok()

        strategy = st.one_of(operation.as_strategy(mode) for mode in GenerationMode)

        @given(case=strategy)
        @settings(max_examples=EXAMPLES, derandomize=True, deadline=None, database=None,
                  phases=[Phase.explicit, Phase.generate], suppress_health_check=list(HealthCheck))  # fmt: skip
        def check(case):
            for headers in identities:
                case.call_and_validate(headers=headers, checks=[not_a_server_error], timeout=30)

        try:
            check()
        except (Exception, BaseExceptionGroup) as error:
            failures.append(f"{operation.verbose_name}: {error}")
    assert not failures, "\n\n".join(failures)
