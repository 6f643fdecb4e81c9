"""Questions, topics and languages: admin-only writes, filters, pagination, soft and hard delete."""

from __future__ import annotations

import httpx
import pytest

from tests.conftest import bearer


def question(title: str, difficulty: str = "Easy", topics=("Arrays",), tests=1, **extra) -> dict:
    return {
        "title": title,
        "statement": f"Statement of {title}.",
        "difficulty": difficulty,
        "topicNames": list(topics),
        "exampleIO": [{"input": "1\n", "output": "1\n", "explanation": "echo"}],
        "constraints": ["1 ≤ n ≤ 10"],
        "solutionOutline": "Echo the input.",
        "metadata": {"timeLimitMs": 1000},
        "testCases": [{"input": f"{i}\n", "output": f"{i}\n"} for i in range(tests)],
        **extra,
    }


@pytest.fixture
async def tokens(harness):
    return {"admin": await harness.admin_token(), "user": await harness.token_for("quinn")}


async def create(harness, tokens, body) -> dict:
    response = await harness.client.post("/questions", headers=bearer(tokens["admin"]), json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_writes_are_admin_only(harness, tokens):
    user = bearer(tokens["user"])
    created = await create(harness, tokens, question("Echo"))
    attempts = [
        harness.client.post("/questions", headers=user, json=question("Nope")),
        harness.client.put(f"/questions/{created['id']}", headers=user, json=question("Renamed")),
        harness.client.delete(f"/questions/{created['id']}", headers=user),
        harness.client.delete(f"/questions/{created['id']}/hard", headers=user),
        harness.client.delete("/topics/1", headers=user),
    ]
    for pending in attempts:
        response = await pending
        assert response.status_code == 403
        assert response.json() == {"error": "Admin only"}
    unchanged = await harness.client.get(f"/questions/{created['id']}", headers=user)
    assert unchanged.json()["title"] == "Echo"


async def test_create_and_read_hide_test_cases_from_users(harness, tokens):
    created = await create(harness, tokens, question("Echo", "medium", ("Strings", "Arrays"), tests=3))
    assert created["difficulty"] == "Medium"
    assert created["topicNames"] == ["Arrays", "Strings"]
    assert len(created["testCases"]) == 3 and created["deleted"] is False
    as_user = await harness.client.get(f"/questions/{created['id']}", headers=bearer(tokens["user"]))
    assert as_user.status_code == 200
    body = as_user.json()
    assert "testCases" not in body and "deleted" not in body
    assert body["exampleIO"] == [{"input": "1\n", "output": "1\n", "explanation": "echo"}]
    assert body["metadata"] == {"timeLimitMs": 1000}
    assert set(body) == {
        "id", "title", "statement", "difficulty", "topicNames", "exampleIO",
        "constraints", "solutionOutline", "metadata", "createdAt", "updatedAt", "topics", "deletedAt",
    }  # fmt: skip
    assert body["deletedAt"] is None
    assert [(link["topicId"], link["topic"]["name"]) for link in body["topics"]] == [
        (link["topicId"], name) for link, name in zip(body["topics"], ["Arrays", "Strings"], strict=True)
    ]


async def test_invalid_question_bodies_are_400(harness, tokens):
    admin = bearer(tokens["admin"])
    for body in (
        question("X", "Impossible"),
        {"title": "only title"},
        {**question("X"), "testCases": "nope"},
    ):
        response = await harness.client.post("/questions", headers=admin, json=body)
        assert response.status_code == 400, body
        assert "error" in response.json()


async def test_filters_search_ordering_and_pagination(harness, tokens):
    user = bearer(tokens["user"])
    await create(harness, tokens, question("Binary Search Basics", "Easy", ("Binary Search",)))
    await create(harness, tokens, question("Graph Walk", "Hard", ("Graphs",)))
    await create(harness, tokens, question("Array Rotation", "Medium", ("Arrays",)))
    await create(harness, tokens, question("Sorted Merge", "Easy", ("Arrays", "Sorting")))

    async def titles(query: str) -> list[str]:
        response = await harness.client.get(f"/questions?{query}", headers=user)
        assert response.status_code == 200, response.text
        return [item["title"] for item in response.json()]

    assert await titles("orderBy=title") == [
        "Array Rotation",
        "Binary Search Basics",
        "Graph Walk",
        "Sorted Merge",
    ]
    assert await titles("orderBy=oldest") == [
        "Binary Search Basics",
        "Graph Walk",
        "Array Rotation",
        "Sorted Merge",
    ]
    assert await titles("") == ["Sorted Merge", "Array Rotation", "Graph Walk", "Binary Search Basics"]
    assert await titles("difficulty=Easy&orderBy=title") == ["Binary Search Basics", "Sorted Merge"]
    assert await titles("difficulty=easy,HARD&orderBy=title") == [
        "Binary Search Basics",
        "Graph Walk",
        "Sorted Merge",
    ]
    assert await titles("topicNames=graphs,Sorting&orderBy=title") == ["Graph Walk", "Sorted Merge"]
    assert await titles("topicNames=Arrays&difficulty=Medium") == ["Array Rotation"]
    assert await titles("search=binary%20search") == ["Binary Search Basics"]
    assert await titles("search=statement%20of%20graph") == ["Graph Walk"]
    assert await titles("search=100%25") == []
    assert await titles("orderBy=title&skip=1&take=2") == ["Binary Search Basics", "Graph Walk"]
    assert await titles("orderBy=title&skip=10") == []
    page = await harness.client.get("/questions?take=1", headers=user)
    assert page.headers["X-Total-Count"] == "4" and len(page.json()) == 1


async def test_unknown_query_values_are_400(harness, tokens):
    user = bearer(tokens["user"])
    for query in ("orderBy=random", "difficulty=Trivial", "take=0", "take=101", "skip=-1", "take=abc"):
        response = await harness.client.get(f"/questions?{query}", headers=user)
        assert response.status_code == 400, query
        assert response.json()["error"]


async def test_take_cap_is_a_setting(harness, tokens, database_url, tmp_path):
    from api.app import create_app
    from tests.conftest import make_settings

    app = create_app(make_settings(database_url, tmp_path, questions_page_max=2, questions_page_default=2))

    async with app.router.lifespan_context(app):
        async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as client:
            for index in range(3):
                await create(harness, tokens, question(f"Q{index}"))
            default = await client.get("/questions", headers=bearer(tokens["user"]))
            over = await client.get("/questions?take=3", headers=bearer(tokens["user"]))
    assert len(default.json()) == 2
    assert over.status_code == 400 and over.json() == {"error": "take must be between 1 and 2"}


async def test_soft_delete_hides_but_keeps_and_put_restores(harness, tokens):
    admin, user = bearer(tokens["admin"]), bearer(tokens["user"])
    created = await create(harness, tokens, question("Ephemeral"))
    path = f"/questions/{created['id']}"
    deleted = await harness.client.delete(path, headers=admin)
    assert deleted.json() == {"message": "Question deleted", "deleted": True}
    assert (await harness.client.get(path, headers=user)).status_code == 404
    assert [q["id"] for q in (await harness.client.get("/questions", headers=user)).json()] == []
    as_admin = await harness.client.get(path, headers=admin)
    assert as_admin.status_code == 200 and as_admin.json()["deleted"] is True
    restored = await harness.client.put(path, headers=admin, json={**question("Ephemeral 2"), "deleted": False})
    assert restored.status_code == 200 and restored.json()["deleted"] is False
    assert (await harness.client.get(path, headers=user)).json()["title"] == "Ephemeral 2"
    soft_by_put = await harness.client.put(path, headers=admin, json={**question("Ephemeral 2"), "deleted": True})
    assert soft_by_put.json()["deleted"] is True
    assert (await harness.client.get(path, headers=user)).status_code == 404


async def test_put_is_a_full_update_and_keeps_test_cases_when_omitted(harness, tokens):
    admin = bearer(tokens["admin"])
    created = await create(harness, tokens, question("Original", tests=2))
    path = f"/questions/{created['id']}"
    body = question("Replaced", "Hard", ("Graphs",))
    del body["testCases"]
    updated = (await harness.client.put(path, headers=admin, json=body)).json()
    assert (updated["title"], updated["difficulty"], updated["topicNames"]) == (
        "Replaced",
        "Hard",
        ["Graphs"],
    )
    assert len(updated["testCases"]) == 2
    replaced = (await harness.client.put(path, headers=admin, json=question("Replaced", tests=5))).json()
    assert [case["input"] for case in replaced["testCases"]] == [f"{i}\n" for i in range(5)]
    assert (await harness.client.put("/questions/99999", headers=admin, json=body)).status_code == 404


async def test_hard_delete_removes_and_is_refused_while_referenced(harness, tokens):
    admin, user = bearer(tokens["admin"]), bearer(tokens["user"])
    free = await create(harness, tokens, question("Unused"))
    gone = await harness.client.delete(f"/questions/{free['id']}/hard", headers=admin)
    assert gone.json() == {"message": "Question permanently deleted", "deleted": True}
    assert (await harness.client.get(f"/questions/{free['id']}", headers=admin)).status_code == 404
    assert (await harness.client.delete(f"/questions/{free['id']}/hard", headers=admin)).status_code == 404

    used = await create(harness, tokens, question("Used"))
    await harness.collab_session("c0ffee00-0000-4000-8000-000000000001", used["id"], "quinn", "admin")
    refused = await harness.client.delete(f"/questions/{used['id']}/hard", headers=admin)
    assert refused.status_code == 409
    assert (await harness.client.get(f"/questions/{used['id']}", headers=user)).status_code == 200


async def test_random_returns_only_judgeable_matches(harness, tokens):
    user = bearer(tokens["user"])
    await create(harness, tokens, question("No Tests", "Easy", ("Arrays",), tests=0))
    judgeable = await create(harness, tokens, question("Has Tests", "Easy", ("Arrays",), tests=2))
    await create(harness, tokens, question("Hard One", "Hard", ("Graphs",), tests=2))
    for _ in range(5):
        picked = await harness.client.get("/questions/random?difficulty=Easy&topicNames=Arrays", headers=user)
        assert picked.status_code == 200 and picked.json()["id"] == judgeable["id"]
    none = await harness.client.get("/questions/random?difficulty=Medium", headers=user)
    assert none.status_code == 404 and none.json()["error"]
    by_language = await harness.client.get("/questions/random?difficulty=Hard&language=python", headers=user)
    assert by_language.json()["title"] == "Hard One"
    assert (await harness.client.get("/questions/random?language=cobol", headers=user)).status_code == 400


async def test_topics_list_and_delete(harness, tokens):
    admin, user = bearer(tokens["admin"]), bearer(tokens["user"])
    created = await create(harness, tokens, question("Tagged", topics=("Graphs", "Trees")))
    listed = (await harness.client.get("/topics", headers=user)).json()
    assert listed["count"] == 2 and [topic["name"] for topic in listed["topics"]] == ["Graphs", "Trees"]
    graphs = next(topic for topic in listed["topics"] if topic["name"] == "Graphs")
    deleted = await harness.client.delete(f"/topics/{graphs['id']}", headers=admin)
    assert deleted.json() == {"message": "Topic permanently deleted", "deleted": True}
    assert (await harness.client.get(f"/questions/{created['id']}", headers=user)).json()["topicNames"] == ["Trees"]
    assert (await harness.client.delete(f"/topics/{graphs['id']}", headers=admin)).status_code == 404


async def test_topics_are_shared_case_insensitively(harness, tokens):
    await create(harness, tokens, question("One", topics=("Dynamic Programming",)))
    second = await create(harness, tokens, question("Two", topics=("dynamic programming",)))
    assert second["topicNames"] == ["Dynamic Programming"]
    assert (await harness.client.get("/topics", headers=bearer(tokens["user"]))).json()["count"] == 1


async def test_languages_list_judge0_ids(harness, tokens):
    response = await harness.client.get("/languages", headers=bearer(tokens["user"]))
    body = response.json()
    assert body["count"] == 5
    assert {item["id"] for item in body["languages"]} == {71, 54, 50, 62, 63}
    assert all(item["id"] == item["judge0Id"] and isinstance(item["available"], bool) for item in body["languages"])
    assert (await harness.client.get("/languages")).status_code == 401


async def test_languages_are_available_when_the_judge_in_use_can_run_them(harness, tokens, monkeypatch, tmp_path):
    import judge.sandbox
    from judge.backends import SandboxJudge
    from judge.testing import DeterministicTestJudge

    assert (await DeterministicTestJudge().language_support())[62] is None
    monkeypatch.setattr(judge.sandbox, "SYSTEM_PATH", str(tmp_path))  # a machine without bubblewrap
    assert "bubblewrap" in (await SandboxJudge().language_support())[71]
    body = (await harness.client.get("/languages", headers=bearer(tokens["user"]))).json()
    assert {item["available"] for item in body["languages"]} == {False}  # no actor runtime: no judge worker to ask


async def languages_from_the_judge_workers(database_url, tmp_path, **overrides) -> dict[int, bool]:
    """`GET /languages` of a front whose judge workers run `overrides`' judge."""
    from tests.contest.apps import contest_app, login

    async with contest_app(database_url, tmp_path, **overrides) as (client, _):
        _, auth = await login(client)
        body = (await client.get("/languages", headers=auth)).json()
    return {item["id"]: item["available"] for item in body["languages"]}


async def test_the_judge_workers_say_which_languages_they_run(settings, ray_session, tmp_path):
    available = await languages_from_the_judge_workers(settings.database_url, tmp_path, judge_backend="test")
    assert available == {71: True, 54: True, 50: True, 62: True, 63: True}


async def test_with_judge0_the_languages_are_the_ones_judge0_has(settings, ray_session, tmp_path):
    """Against a Judge0-like server (a real Judge0 was not part of the tests) that lacks Java."""
    from tests.judge0.fake_judge0 import LANGUAGES, Judge0LikeServer

    server = Judge0LikeServer(languages=[entry for entry in LANGUAGES if entry["id"] != 62])
    async with server.serve() as judge0_url:
        available = await languages_from_the_judge_workers(
            settings.database_url, tmp_path, judge_backend="judge0", judge0_url=judge0_url
        )
    assert available == {71: True, 54: True, 50: True, 62: False, 63: True}
