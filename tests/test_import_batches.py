"""Bulk imports through the command line: checked first, written in short transactions,
finished by running them again, and announced to both sides with --notify."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time

from tests.test_cli import _members_file

TOPICS = ["Bürgerbus", "Dorfladen", "Nachbarschaftshilfe", "Ärztehaus", "Jugendbeteiligung"]


def _posts(count: int) -> list[dict]:
    rows = []
    for number in range(count):
        topic = TOPICS[number % len(TOPICS)]
        if number % 2:
            row = {"kind": "request", "title": f"Erfahrungen mit {topic} gesucht ({number})"}
            row["author_email"] = "b@example.org"
        else:
            row = {"kind": "offer", "title": f"Unser Konzept für {topic} ({number})"}
            row["author_email"] = "a@example.org"
        row["id"] = f"p{number}"
        row["body"] = f"Wie wir {topic} in der Gemeinde organisieren, Nummer {number}."
        rows.append(row)
    return rows


def _write(path, rows) -> None:
    path.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n")


def _query(tmp_path, sql: str, *args) -> list[tuple]:
    with sqlite3.connect(tmp_path / "zr.db") as db:
        return db.execute(sql, args).fetchall()


def _refused_at_line_120(cli, tmp_path, table: str, rows: list[dict]):
    """The file is refused with the line named, and nothing of it is written."""
    path = tmp_path / f"{table}.jsonl"
    _write(path, rows)
    result = cli("import", table, str(path))
    assert result.returncode == 2
    assert "Zeile 120" in result.stderr and "Traceback" not in result.stderr
    assert _query(tmp_path, f"select count(*) from {table}") == [(0,)]
    return path


def test_notify_asks_both_sides_of_each_new_pair(cli, tmp_path):
    assert cli("import", "members", str(_members_file(tmp_path))).returncode == 0
    posts = tmp_path / "posts.jsonl"
    _write(
        posts,
        [
            {"id": "r1", "kind": "request", "title": "Erfahrungen mit Bürgerbussen gesucht",
             "body": "Wie organisiert man Fahrdienste für Senioren?",
             "author_email": "b@example.org"},
            {"id": "o1", "kind": "offer", "title": "Unser Bürgerbus-Konzept",
             "body": "Ehrenamtlicher Bürgerbus für Senioren", "author_email": "a@example.org"},
        ],
    )  # fmt: skip
    result = cli("import", "posts", "--notify", str(posts))
    assert result.returncode == 0, result.stderr
    pairs = _query(tmp_path, "select id from matches where status = 'proposed'")
    assert len(pairs) == 1
    asked = _query(
        tmp_path,
        "select m.email, o.dedupe_key from outbox o join members m on m.id = o.member_id "
        "where o.kind = 'match_proposal' order by m.email",
    )
    match_id = pairs[0][0]
    assert [email for email, _ in asked] == ["a@example.org", "b@example.org"]
    assert all(key.startswith(f"match:{match_id}:proposal:") for _, key in asked)


def test_without_notify_nobody_is_asked(cli, tmp_path):
    assert cli("import", "members", str(_members_file(tmp_path))).returncode == 0
    posts = tmp_path / "posts.jsonl"
    _write(posts, _posts(4))
    assert cli("import", "posts", str(posts)).returncode == 0
    assert _query(tmp_path, "select count(*) from matches")[0][0] > 0
    assert _query(tmp_path, "select count(*) from outbox")[0][0] == 0


def test_a_bad_line_after_the_first_batch_still_writes_nothing(cli, tmp_path):
    assert cli("import", "members", str(_members_file(tmp_path))).returncode == 0
    rows = _posts(120)
    rows[-1]["kind"] = "tausch"
    _refused_at_line_120(cli, tmp_path, "posts", rows)


def test_members_checked_whole_before_any_batch(cli, tmp_path):
    rows = [
        {"email": f"m{n}@example.org", "name": f"Mitglied {n}", "role": "volunteer",
         "municipality": "12073452", "telegram_chat_id": 1000 + n}
        for n in range(120)
    ]  # fmt: skip
    rows[-1]["telegram_chat_id"] = 1000  # the same chat as the first member
    path = _refused_at_line_120(cli, tmp_path, "members", rows)
    rows[-1]["telegram_chat_id"] = 9999
    _write(path, rows)
    result = cli("import", "members", str(path))
    assert "120 Mitglieder importiert" in result.stdout, result.stderr


def test_an_import_killed_midway_is_finished_by_running_it_again(cli, tmp_path):
    """kill -9 while the import writes or matches; the same command again completes it."""
    assert cli("import", "members", str(_members_file(tmp_path))).returncode == 0
    total = 300
    posts = tmp_path / "posts.jsonl"
    _write(posts, _posts(total))
    env = {**os.environ, "ZR_DATABASE_URL": f"sqlite:///{tmp_path / 'zr.db'}"}
    process = subprocess.Popen(
        [sys.executable, "-m", "zukunftsraum", "import", "posts", str(posts)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        # The first batch is committed on its own: wait for it, then kill.
        while process.poll() is None:
            if _query(tmp_path, "select count(*) from posts")[0][0] > 0:
                break
            time.sleep(0.02)
        process.send_signal(signal.SIGKILL)
    finally:
        process.wait()
    written = _query(tmp_path, "select count(*) from posts")[0][0]
    unmatched = _query(tmp_path, "select count(*) from posts where matched_at is null")[0][0]
    assert written < total or unmatched > 0, "the import finished before it could be killed"

    result = cli("import", "posts", str(posts))
    assert result.returncode == 0, result.stderr
    assert f"{total - written} Beiträge importiert, {written} bereits vorhanden" in result.stdout
    assert _query(tmp_path, "select count(*), count(distinct external_id) from posts") == [
        (total, total)
    ]
    assert _query(tmp_path, "select count(*) from posts where matched_at is null") == [(0,)]
    assert _query(tmp_path, "select count(*) from post_embeddings") == [(total,)]
    # Matching ran for every post: each request has found an offer.
    assert _query(
        tmp_path,
        "select count(*) from posts p where p.kind = 'request' and not exists "
        "(select 1 from matches m where m.request_id = p.id)",
    ) == [(0,)]
