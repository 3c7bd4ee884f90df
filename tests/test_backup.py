"""``zukunftsraum db backup FILE``: a copy that can be restored and read, and one line on
bad input."""

from __future__ import annotations

import sqlite3


def _members(path) -> list[str]:
    with sqlite3.connect(path) as conn:
        return [row[0] for row in conn.execute("SELECT email FROM members ORDER BY email")]


def test_backup_of_sqlite_is_restored_and_read(cli, tmp_path):
    added = cli(
        "members", "add", "--email", "anna@templin.example", "--name", "Anna Schmidt",
        "--municipality", "12073452", "--role", "mayor",
    )  # fmt: skip
    assert added.returncode == 0, added.stderr
    target = tmp_path / "sicherung" / "zr-backup.db"
    target.parent.mkdir()
    result = cli("db", "backup", str(target))
    assert result.returncode == 0, result.stderr
    assert "Gesichert" in result.stdout and target.is_file()
    assert _members(target) == ["anna@templin.example"]
    # Restored: the service's commands read the copy as their database.
    restored = cli("members", "list", env_extra={"ZR_DATABASE_URL": f"sqlite:///{target}"})
    assert restored.returncode == 0, restored.stderr
    assert "Anna Schmidt" in restored.stdout
    with sqlite3.connect(target) as conn:
        assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_backup_refuses_bad_targets_and_sources_in_one_line(cli, tmp_path):
    existing = tmp_path / "schon-da.db"
    existing.write_bytes(b"wichtig")
    cases = [
        ((str(existing),), {}, "existiert schon"),
        ((str(tmp_path / "fehlt" / "x.db"),), {}, "Verzeichnis nicht gefunden"),
        (
            (str(tmp_path / "a.db"),),
            {"ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'gibt-es-nicht.db'}"},
            "nicht gefunden",
        ),
        (
            (str(tmp_path / "b.db"),),
            {"ZR_DATABASE_URL": f"sqlite:///{existing}"},
            "Sicherung fehlgeschlagen",
        ),
        ((str(tmp_path / "c.db"),), {"ZR_DATABASE_URL": "sqlite://"}, "Arbeitsspeicher"),
    ]
    for args, env, expected in cases:
        result = cli("db", "backup", *args, env_extra=env)
        assert result.returncode == 2, (args, env, result.stdout, result.stderr)
        assert expected in result.stderr, result.stderr
        assert len(result.stderr.strip().splitlines()) == 1 and "Traceback" not in result.stderr
    assert existing.read_bytes() == b"wichtig"  # never overwritten
    assert not (tmp_path / "gibt-es-nicht.db").exists()  # never created by a backup
    assert not (tmp_path / "b.db").exists()  # no half copy left behind


def test_backup_of_postgresql_prints_pg_dump_with_the_password_masked(cli, tmp_path):
    url = "postgresql+asyncpg://zr:streng-geheim@db.example.org:5433/zukunftsraum"
    result = cli("db", "backup", str(tmp_path / "zr.dump"), env_extra={"ZR_DATABASE_URL": url})
    assert result.returncode == 0, result.stderr
    assert "streng-geheim" not in result.stdout
    line = next(ln for ln in result.stdout.splitlines() if ln.startswith("pg_dump"))
    assert "--format=custom" in line and f"--file={tmp_path / 'zr.dump'}" in line
    assert "--dbname='postgresql://zr:***@db.example.org:5433/zukunftsraum'" in line
