"""The timeline: month counts by LOCAL capture time, month pages ordered by the UTC instant."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import psycopg
from sqlalchemy import select, text

from meadhall.library.models import TimelineMonth
from meadhall.platform.db.migrate import upgrade
from meadhall.platform.runtime import Runtime
from meadhall.wings import HOUSE
from tests.library.assets.support import make_asset
from tests.library.factories import make_album

API = "/api/library/timeline"
UTC_MINUS_5 = timezone(timedelta(hours=-5))
UTC_PLUS_9 = timezone(timedelta(hours=9))


async def _at(runtime: Runtime, owner: Any, local: datetime, **fields: Any) -> Any:
    """An asset captured at the aware wall time ``local``."""
    return await make_asset(
        runtime,
        owner_id=owner.id,
        when=local.astimezone(UTC),
        local_at=local.replace(tzinfo=None),
        captured_local=local.replace(tzinfo=None),
        **fields,
    )


async def _buckets(client: httpx.AsyncClient, user: Any, **params: Any) -> list[Any]:
    response = await client.get(f"{API}/buckets", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    return [(b["month"], b["count"]) for b in response.json()]


async def test_buckets_by_local_month(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user, other = await make_user(), await make_user()
    # 23:30 on May 31 in UTC-5 is already June 1 in UTC: it belongs to May.
    evening = await _at(runtime, user, datetime(2024, 5, 31, 23, 30, tzinfo=UTC_MINUS_5))
    assert evening.sort_at.month == 6
    await _at(runtime, user, datetime(2024, 5, 2, 10, 0, tzinfo=UTC), type="map")
    await _at(runtime, user, datetime(2024, 6, 1, 8, 0, tzinfo=UTC_PLUS_9), is_favourite=True)
    await _at(runtime, user, datetime(2019, 12, 31, 23, 59, tzinfo=UTC))
    await _at(runtime, user, datetime(2024, 4, 1, tzinfo=UTC), is_archived=True)
    await _at(runtime, user, datetime(2024, 3, 1, tzinfo=UTC), trashed_at=datetime.now(UTC))
    shared = await _at(runtime, other, datetime(2024, 5, 5, tzinfo=UTC))
    await make_album(runtime, owner_id=other.id, assets=[shared], members={user.id: "viewer"})

    assert await _buckets(client, user) == [("2024-06", 1), ("2024-05", 2), ("2019-12", 1)]
    assert await _buckets(client, user, type="map") == [("2024-05", 1)]
    assert await _buckets(client, user, type=["map", "photo"]) == [
        ("2024-06", 1),
        ("2024-05", 2),
        ("2019-12", 1),
    ]
    assert await _buckets(client, user, favourite="true") == [("2024-06", 1)]
    assert await _buckets(client, user, favourite="false") == [("2024-05", 2), ("2019-12", 1)]
    assert await _buckets(client, other) == [("2024-05", 1)]


async def test_counts_follow_every_change(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()
    asset = await _at(runtime, user, datetime(2024, 5, 10, tzinfo=UTC))
    url = f"/api/library/assets/{asset.id}"
    assert await _buckets(client, user) == [("2024-05", 1)]
    await client.post(f"{url}/archive", headers=user.headers)
    assert await _buckets(client, user) == []
    await client.delete(f"{url}/archive", headers=user.headers)
    await client.post(f"{url}/favourite", headers=user.headers)
    assert await _buckets(client, user, favourite="true") == [("2024-05", 1)]
    await client.patch(url, json={"type": "map"}, headers=user.headers)
    assert await _buckets(client, user, type="map") == [("2024-05", 1)]
    assert await _buckets(client, user, type="photo") == []
    await client.delete(url, headers=user.headers)
    assert await _buckets(client, user) == []
    await client.post(f"{url}/restore", headers=user.headers)
    assert await _buckets(client, user) == [("2024-05", 1)]
    # The pipeline moving the capture time moves the asset to another month.
    async with runtime.db.transaction() as session:
        from meadhall.library.models import Asset

        row = await session.get(Asset, asset.id)
        assert row is not None
        row.local_at = datetime(2021, 1, 15)
    assert await _buckets(client, user) == [("2021-01", 1)]
    await client.delete(f"{url}/purge", params={"force": "true"}, headers=user.headers)
    assert await _buckets(client, user) == []
    async with runtime.db.sessionmaker() as session:
        # Empty months leave no rows behind.
        assert (await session.scalars(select(TimelineMonth))).all() == []


async def test_month_items_ordered_by_instant(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user, other = await make_user(), await make_user()
    # Local times and instants disagree on the order: the instant wins.
    tokyo = await _at(
        runtime,
        user,
        datetime(2024, 5, 20, 20, 0, tzinfo=UTC_PLUS_9),  # 11:00 UTC
        placeholder="abc",
        width=640,
        height=480,
        name="Dinner in Tokyo",
        is_favourite=True,
    )
    newyork = await _at(runtime, user, datetime(2024, 5, 20, 9, 0, tzinfo=UTC_MINUS_5))  # 14:00
    evening = await _at(runtime, user, datetime(2024, 5, 31, 23, 30, tzinfo=UTC_MINUS_5))
    april = await _at(runtime, user, datetime(2024, 4, 30, 23, 0, tzinfo=UTC), type="map")
    video = await _at(
        runtime, user, datetime(2024, 4, 2, tzinfo=UTC), media="video", duration_ms=4200
    )
    await _at(runtime, user, datetime(2024, 5, 3, tzinfo=UTC), trashed_at=datetime.now(UTC))
    await _at(runtime, user, datetime(2024, 5, 4, tzinfo=UTC), is_archived=True)
    await _at(runtime, other, datetime(2024, 5, 5, tzinfo=UTC))

    response = await client.get(
        f"{API}/months", params={"months": "2024-05,2024-04"}, headers=user.headers
    )
    assert response.status_code == 200, response.text
    months = response.json()["months"]
    assert [m["month"] for m in months] == ["2024-05", "2024-04"]
    assert [i["id"] for i in months[0]["items"]] == [
        str(evening.id),
        str(newyork.id),
        str(tokyo.id),
    ]
    assert [i["id"] for i in months[1]["items"]] == [str(april.id), str(video.id)]
    item = months[0]["items"][2]
    assert item == {
        "id": str(tokyo.id),
        "name": "Dinner in Tokyo",
        "type": "photo",
        "media": "image",
        "local_at": "2024-05-20T20:00:00",
        "width": 640,
        "height": 480,
        "placeholder": "abc",
        "duration_ms": None,
        "is_favourite": True,
    }
    assert months[0]["items"][0]["name"] == "photo"
    assert months[0]["items"][0]["is_favourite"] is False
    assert months[1]["items"][1]["duration_ms"] == 4200
    assert months[0]["items"][0]["local_at"] == "2024-05-31T23:30:00"

    # Repeated parameters, duplicates, filters, and an empty month.
    response = await client.get(
        f"{API}/months",
        params={"months": ["2024-04", "2024-04", "1999-01"], "type": "map"},
        headers=user.headers,
    )
    assert response.json() == {
        "months": [
            {"month": "2024-04", "items": [months[1]["items"][0]]},
            {"month": "1999-01", "items": []},
        ]
    }


async def test_month_parameter_validation(client: httpx.AsyncClient, make_user: Any) -> None:
    user = await make_user()
    thirteen = ",".join(f"2023-{m:02d}" for m in range(1, 13)) + ",2022-01"
    for params in [
        {},
        {"months": ""},
        {"months": "2024-13"},
        {"months": "2024-00"},
        {"months": "2024-5"},
        {"months": "0000-01"},
        {"months": "May 2024"},
        {"months": "2024-05-01"},
        {"months": thirteen},
        {"months": ["2024-01"] * 13},
        {"months": "2024-05", "type": "spaceship"},
    ]:
        response = await client.get(f"{API}/months", params=params, headers=user.headers)
        assert response.status_code == 422, (params, response.text)
        assert "error" in response.json()
    edge = await client.get(f"{API}/months", params={"months": "9999-12"}, headers=user.headers)
    assert edge.status_code == 200
    bad = await client.get(f"{API}/buckets", params={"favourite": "maybe"}, headers=user.headers)
    assert bad.status_code == 422


async def test_month_page_is_rebuilt_after_every_change(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    """Month pages are kept between requests; any change to one of its assets shows at once."""
    user = await make_user()
    first = await _at(runtime, user, datetime(2023, 3, 10, 12, 0, tzinfo=UTC))

    async def page() -> list[Any]:
        response = await client.get(
            f"{API}/months", params={"months": "2023-03"}, headers=user.headers
        )
        assert response.status_code == 200, response.text
        return list(response.json()["months"][0]["items"])

    async def items() -> list[tuple[str, Any]]:
        return [(i["id"], i["placeholder"]) for i in await page()]

    assert await items() == [(str(first.id), None)]
    assert await items() == [(str(first.id), None)]  # served from the stored page
    async with runtime.db.transaction() as session:
        row = (
            await session.execute(
                text("SELECT body_version = version FROM timeline_pages WHERE owner_id = :o"),
                {"o": user.id},
            )
        ).scalar_one()
    assert row is True

    # A processed placeholder (an update), a new asset (an insert), a move to another month
    # and a purge (a delete) each change what the page must say.
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE assets SET placeholder = 'xyz' WHERE id = :id"), {"id": first.id}
        )
    assert await items() == [(str(first.id), "xyz")]
    second = await _at(runtime, user, datetime(2023, 3, 20, 12, 0, tzinfo=UTC))
    assert await items() == [(str(second.id), None), (str(first.id), "xyz")]
    async with runtime.db.transaction() as session:
        await session.execute(
            text("UPDATE assets SET local_at = '2023-04-01 10:00' WHERE id = :id"),
            {"id": second.id},
        )
    assert await items() == [(str(first.id), "xyz")]
    async with runtime.db.transaction() as session:
        await session.execute(text("DELETE FROM assets WHERE id = :id"), {"id": first.id})
    assert await items() == []

    # Filtered pages are never taken from the stored one.
    third = await _at(runtime, user, datetime(2023, 3, 5, tzinfo=UTC), type="map")
    response = await client.get(
        f"{API}/months", params={"months": "2023-03", "type": "photo"}, headers=user.headers
    )
    assert response.json()["months"][0]["items"] == []
    assert [i for i, _ in await items()] == [str(third.id)]

    # A rename and a favourite (through the API) show in the stored page at once.
    url = f"/api/library/assets/{third.id}"
    await client.patch(url, json={"name": "Dungeon map"}, headers=user.headers)
    await client.post(f"{url}/favourite", headers=user.headers)
    [item] = await page()
    assert (item["name"], item["is_favourite"]) == ("Dungeon map", True)


def test_migration_0010_covers_names_and_forgets_stored_pages(
    database_factory: Callable[[], str],
) -> None:
    """Pages stored before 0010 lack ``name`` and ``is_favourite``: the upgrade drops them."""
    url = database_factory()
    upgrade(url, HOUSE.migration_locations, "0009")
    owner = uuid.uuid4()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(
            "INSERT INTO timeline_pages (owner_id, month, version, body, body_version) "
            "VALUES (%s, '2024-05-01', 3, '[]', 3)",
            (owner,),
        )
    upgrade(url, HOUSE.migration_locations)
    with psycopg.connect(url, autocommit=True) as conn:
        page = conn.execute(
            "SELECT version, body, body_version FROM timeline_pages WHERE owner_id = %s", (owner,)
        ).fetchone()
        index = conn.execute(
            "SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_assets_timeline'"
        ).fetchone()
    assert page == (3, None, None)
    assert index is not None
    assert "INCLUDE (local_at, type, media, is_favourite" in index[0] and "name)" in index[0]
