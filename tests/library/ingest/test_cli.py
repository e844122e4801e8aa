"""``meadhall import PATH``: a real process importing a folder, with its summary."""

from __future__ import annotations

import asyncio
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

from meadhall.platform.runtime import Runtime
from tests.conftest import meadhall_env
from tests.library.ingest.conftest import assets_of, distinct_jpeg, encoded, jobs_of


async def _meadhall(runtime: Runtime, *args: str) -> subprocess.CompletedProcess[str]:
    settings = runtime.settings
    assert settings.database_url is not None
    env = meadhall_env(
        settings.database_url, settings.data_dir, MEADHALL_LOG_LEVEL="warning", COLUMNS="200"
    )
    return await asyncio.to_thread(
        subprocess.run,
        [sys.executable, "-m", "meadhall", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def _folder(root: Path) -> Path:
    (root / "sub").mkdir(parents=True)
    (root / "a.jpg").write_bytes(distinct_jpeg(1))
    (root / "b.png").write_bytes(encoded("PNG", seed=2))
    (root / "sub" / "c.gif").write_bytes(encoded("GIF", seed=3))
    (root / "sub" / "copy of a.jpg").write_bytes(distinct_jpeg(1))
    (root / "notes.txt").write_text("a shopping list")
    (root / "empty.jpg").write_bytes(b"")
    (root / ".hidden.jpg").write_bytes(distinct_jpeg(4))
    return root


async def test_import_a_folder_with_a_summary(
    make_user: Any, runtime: Runtime, tmp_path: Path
) -> None:
    user = await make_user(email="Gm@Example.com")
    root = _folder(tmp_path / "session photos")
    result = await _meadhall(
        runtime, "import", str(root), "--user", "gm@example.com", "--attribution", "Table 3"
    )
    # Two files failed, so the exit status says so.
    assert result.returncode == 1, result.stderr
    out = result.stdout
    assert "Import summary" in out
    counts = {
        name: int(n) for name, n in re.findall(r"(imported|duplicates|failed)\s*│\s*(\d+)", out)
    }
    assert counts == {"imported": 3, "duplicates": 1, "failed": 2}
    assert "sub/copy of a.jpg" in out  # the duplicate, named
    assert "notes.txt" in out and "not a supported format" in out
    assert "empty.jpg" in out and "the file is empty" in out
    assert ".hidden.jpg" not in out

    assets = await assets_of(runtime, user.id)
    assert sorted(a.original_filename for a in assets) == ["a.jpg", "b.png", "c.gif"]
    assert {a.origin for a in assets} == {"cli"} and {a.attribution for a in assets} == {"Table 3"}
    sources = {"a.jpg": root / "a.jpg", "b.png": root / "b.png", "c.gif": root / "sub" / "c.gif"}
    for asset in assets:
        stored = runtime.settings.library_dir / asset.storage_path
        assert stored.read_bytes() == sources[asset.original_filename].read_bytes()
    # The same pipeline as any upload: processing is queued for each.
    assert len(await jobs_of(runtime, "library.process_asset")) == 3
    # Originals on the server's disk are left as they were.
    assert (root / "a.jpg").read_bytes() == distinct_jpeg(1)

    again = await _meadhall(runtime, "import", str(root / "sub"), "--user", user.email)
    assert again.returncode == 0, again.stdout
    assert "duplicates" in again.stdout
    assert len(await assets_of(runtime, user.id)) == 3


async def test_no_recursive_and_default_owner(
    make_user: Any, runtime: Runtime, tmp_path: Path
) -> None:
    admin = await make_user(is_admin=True)
    root = tmp_path / "maps"
    (root / "deeper").mkdir(parents=True)
    (root / "top.jpg").write_bytes(distinct_jpeg(10))
    (root / "deeper" / "below.jpg").write_bytes(distinct_jpeg(11))
    result = await _meadhall(runtime, "import", str(root), "--no-recursive")
    assert result.returncode == 0, result.stdout + result.stderr
    [asset] = await assets_of(runtime, admin.id)
    assert asset.original_filename == "top.jpg"

    single = await _meadhall(runtime, "import", str(root / "deeper" / "below.jpg"))
    assert single.returncode == 0
    assert len(await assets_of(runtime, admin.id)) == 2


async def test_clear_errors(make_user: Any, runtime: Runtime, tmp_path: Path) -> None:
    missing = await _meadhall(runtime, "import", str(tmp_path / "nowhere"))
    assert missing.returncode == 2
    assert "no such file or folder" in missing.stderr

    (tmp_path / "a.jpg").write_bytes(distinct_jpeg(12))
    nobody = await _meadhall(runtime, "import", str(tmp_path / "a.jpg"))
    assert nobody.returncode == 2 and "there is no user yet" in nobody.stderr
    await make_user()
    unknown = await _meadhall(
        runtime, "import", str(tmp_path / "a.jpg"), "--user", "who@example.com"
    )
    assert unknown.returncode == 2
    assert "no user with the e-mail 'who@example.com'" in unknown.stderr
    long = await _meadhall(runtime, "import", str(tmp_path), "--attribution", "x" * 501)
    assert long.returncode == 2
