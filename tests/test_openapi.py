"""/openapi.json describes every route of the contract implemented so far, with the seeds' examples."""

from __future__ import annotations

IMPLEMENTED = {
    ("post", "/users/register"), ("post", "/users/login"), ("post", "/users/logout"), ("post", "/users/refresh"),
    ("get", "/users/me"), ("get", "/users/{user_id}"), ("patch", "/users/{user_id}"),
    ("get", "/questions"), ("post", "/questions"), ("get", "/questions/{question_id}"),
    ("put", "/questions/{question_id}"), ("delete", "/questions/{question_id}"),
    ("delete", "/questions/{question_id}/hard"), ("get", "/questions/random"),
    ("get", "/languages"), ("get", "/topics"), ("delete", "/topics/{topic_id}"),
    ("post", "/attempts"), ("get", "/attempts/{attempt_id}"), ("get", "/attempts/users/{user_id}"),
    ("get", "/attempts/users/{user_id}/questions"), ("get", "/health"), ("get", "/ready"),
}  # fmt: skip


async def test_every_route_is_documented_with_models(harness):
    spec = (await harness.client.get("/openapi.json")).json()
    documented = {(method, path) for path, item in spec["paths"].items() for method in item}
    assert IMPLEMENTED <= documented
    for method, path in IMPLEMENTED - {("get", "/health"), ("get", "/ready")}:
        operation = spec["paths"][path][method]
        success = next(code for code in operation["responses"] if code.startswith("2"))
        assert operation["responses"][success].get("content"), (method, path)
        assert "400" in operation["responses"] and "401" in operation["responses"], (method, path)


async def test_seed_examples_are_in_the_schemas(harness):
    schemas = (await harness.client.get("/openapi.json")).json()["components"]["schemas"]
    assert schemas["RegisterRequest"]["examples"][0]["username"] == "johndoe"
    assert schemas["UpdateUserRequest"]["examples"][0]["newUsername"] == "newusername"
    assert schemas["QuestionOut"]["examples"][0]["title"] == "Two Sum"
    assert schemas["AttemptIn"]["examples"][0]["collabId"] == "d5ed2f3b-942c-4543-a0d3-a6f57f4bf2b4"
    assert schemas["ErrorBody"]["examples"][0] == {"error": "Room not found"}


async def test_protected_routes_declare_both_auth_schemes(harness):
    spec = (await harness.client.get("/openapi.json")).json()
    assert {"HTTPBearer", "APIKeyCookie"} <= set(spec["components"]["securitySchemes"])
    me = spec["paths"]["/users/me"]["get"]
    assert {name for requirement in me["security"] for name in requirement} == {"HTTPBearer", "APIKeyCookie"}
