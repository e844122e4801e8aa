"""``GET /api/library/facets``: the cameras and places of the caller's own library."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx

from meadhall.platform.runtime import Runtime
from tests.library.assets.support import make_asset
from tests.library.factories import make_album


async def _facets(client: httpx.AsyncClient, user: Any, **params: Any) -> dict[str, Any]:
    response = await client.get("/api/library/facets", params=params, headers=user.headers)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_counts_sorted_and_grouped_without_case(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    user = await make_user()

    async def shot(**fields: Any) -> None:
        await make_asset(runtime, owner_id=user.id, **fields)

    for _ in range(3):
        await shot(camera_make="Canon", camera_model="EOS R5", country="France", city="Paris")
    # Another spelling of the same maker and model: one entry, as the list filter sees them.
    await shot(camera_make="CANON", camera_model="eos r5", country="France", city="Lyon")
    await shot(camera_make="Fujifilm", camera_model="X-T5", country="Norway", country_code="NO")
    await shot(camera_make="Fujifilm", camera_model="GFX100", country="Norway", city="Bergen")
    # Blank values and missing ones are no choice at all.
    await shot(camera_make="  ", camera_model="", country="", city=" ")
    await shot()
    # Archived assets can be searched, so they count; trashed ones do not.
    await shot(camera_make="Leica", camera_model="Q2", is_archived=True)
    await shot(camera_make="Nikon", camera_model="Z9", trashed_at=datetime.now(UTC))

    body = await _facets(client, user)
    makes = [(m["make"].lower(), m["count"]) for m in body["makes"]]
    assert makes == [("canon", 4), ("fujifilm", 2), ("leica", 1)]
    models = [(m["make"].lower(), m["model"].lower(), m["count"]) for m in body["models"]]
    assert models == [
        ("canon", "eos r5", 4),
        ("fujifilm", "gfx100", 1),
        ("leica", "q2", 1),
        ("fujifilm", "x-t5", 1),
    ]
    assert body["countries"] == [
        {"country": "France", "code": None, "count": 4},
        {"country": "Norway", "code": "NO", "count": 2},
    ]
    assert body["cities"] == [
        {"city": "Paris", "country": "France", "count": 3},
        {"city": "Bergen", "country": "Norway", "count": 1},
        {"city": "Lyon", "country": "France", "count": 1},
    ]

    capped = await _facets(client, user, limit=1)
    assert [len(capped[key]) for key in ("makes", "models", "countries", "cities")] == [1] * 4
    assert capped["makes"][0]["count"] == 4


async def test_a_facet_selects_what_it_counts(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    """Each suggestion, passed back to the asset list, finds exactly as many assets."""
    user = await make_user()
    for make, model, city in (("Canon", "EOS R5", "Paris"), ("canon", "EOS R5", "Paris")):
        await make_asset(runtime, owner_id=user.id, camera_make=make, camera_model=model, city=city)
    body = await _facets(client, user)
    checks = [
        ({"camera_make": body["makes"][0]["make"]}, body["makes"][0]["count"]),
        ({"camera_model": body["models"][0]["model"]}, body["models"][0]["count"]),
        ({"city": body["cities"][0]["city"]}, body["cities"][0]["count"]),
    ]
    for params, count in checks:
        listed = await client.get("/api/library/assets", params=params, headers=user.headers)
        assert len(listed.json()["items"]) == count == 2


async def test_other_users_assets_never_leak(
    client: httpx.AsyncClient, runtime: Runtime, make_user: Any
) -> None:
    me = await make_user()
    other = await make_user()
    secret = await make_asset(
        runtime,
        owner_id=other.id,
        camera_make="Hasselblad",
        camera_model="X2D",
        country="Iceland",
        city="Reykjavik",
    )
    # Even shared with me through an album, another user's camera and places stay theirs.
    await make_album(runtime, owner_id=other.id, assets=[secret], members={me.id: "viewer"})

    assert await _facets(client, me) == {"makes": [], "models": [], "countries": [], "cities": []}
    theirs = await _facets(client, other)
    assert theirs["makes"] == [{"make": "Hasselblad", "count": 1}]


async def test_bad_requests(client: httpx.AsyncClient, make_user: Any) -> None:
    unauthenticated = await client.get("/api/library/facets")
    assert unauthenticated.status_code == 401
    assert unauthenticated.json()["error"]["code"] == "not_authenticated"

    user = await make_user()
    for limit in ("0", "201", "many", "-3"):
        response = await client.get(
            "/api/library/facets", params={"limit": limit}, headers=user.headers
        )
        assert response.status_code == 422, (limit, response.text)
        assert "error" in response.json()
