"""Upserting users who sign in through a provider: by email, usernames made unique, races."""

from __future__ import annotations

import asyncio

import pytest

from persistence.repositories import federated_users, users


async def test_a_new_user_gets_the_email_local_part_as_username_or_a_free_variant(db_sessions):
    async with db_sessions() as session:
        await users.create(session, username="bob", email="bob@elsewhere.org", password_hash="x")
        first = await federated_users.sign_in(session, email="Bob@Example.com", display_name="Bob", provider="GOOGLE")
        tiny = await federated_users.sign_in(session, email="b+@example.com", display_name=None, provider="GOOGLE")

    assert first.username.startswith("bob-") and len(first.username) == len("bob-") + 6
    assert (first.email, first.display_name, first.provider, first.password_hash) == (
        "bob@example.com",
        "Bob",
        "GOOGLE",
        None,
    )
    assert (tiny.username, tiny.display_name) == ("user-b", None)


def test_usernames_keep_to_what_registration_allows():
    assert federated_users.username_from_email("jo.hn+tag@example.com") == "jo.hntag"
    assert federated_users.username_from_email("ünïcode@example.com") == "ncode"
    assert len(federated_users.username_from_email("x" * 80 + "@example.com")) == federated_users.USERNAME_BASE_MAX


async def test_an_existing_user_keeps_everything_but_the_display_name(db_sessions):
    async with db_sessions() as session:
        local = await users.create(session, username="carol", email="carol@example.com", password_hash="hash")
        with pytest.raises(federated_users.EmailNotProved):
            await federated_users.sign_in(session, email="carol@example.com", display_name="Carol", provider="GOOGLE")
        signed_in = await federated_users.sign_in(
            session,
            email="carol@example.com",
            display_name="  Carol " + "C" * 200,
            provider="GOOGLE",
            linking_user_id=local.id,
        )
        unnamed = await federated_users.sign_in(session, email="carol@example.com", display_name=None, provider="X")

    assert signed_in.id == local.id == unnamed.id
    assert (unnamed.username, unnamed.provider, unnamed.password_hash) == ("carol", "LOCAL", "hash")
    assert unnamed.email_verified
    assert unnamed.display_name == ("Carol " + "C" * 200)[: federated_users.DISPLAY_NAME_MAX]


async def test_an_email_change_unproves_the_email(db_sessions):
    async with db_sessions() as session:
        user = await federated_users.sign_in(session, email="erin@example.com", display_name=None, provider="GOOGLE")
        assert user.email_verified
        await users.update(session, user, email="victim@example.com")
        with pytest.raises(federated_users.EmailNotProved):
            await federated_users.sign_in(session, email="victim@example.com", display_name=None, provider="GOOGLE")


async def test_concurrent_first_sign_ins_with_one_email_make_one_user(db_sessions):
    async def sign_in(index: int):
        async with db_sessions() as session:
            user = await federated_users.sign_in(
                session, email="dave@example.com", display_name=f"Dave {index}", provider="GOOGLE"
            )
            return user.id

    ids = await asyncio.gather(*(sign_in(index) for index in range(6)))

    assert len(set(ids)) == 1
    async with db_sessions() as session:
        assert (await users.by_email(session, "dave@example.com")).id == ids[0]
