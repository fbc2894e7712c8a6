"""Uploaded target lists between preview and confirm: a temp file named by a session token.

The file name a user sends is only ever shown, never used as a path: the upload is written to a
fresh `mkstemp` file in a private directory, and the confirm step finds it through a random
token stored in the user's own session (a token from another session finds nothing). Files are
deleted on confirm or cancel, and any left behind are swept after `MAX_AGE_SECONDS`.
"""

from __future__ import annotations

import os
import secrets
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.core.files.uploadedfile import UploadedFile

SESSION_KEY = "registry_uploads"
MAX_AGE_SECONDS = 3600


def upload_dir() -> Path:
    path = Path(tempfile.gettempdir()) / "madoguchi-target-uploads"
    path.mkdir(mode=0o700, exist_ok=True)
    return path


@dataclass
class StoredUpload:
    token: str
    path: Path
    program_id: int
    file_name: str
    drop_columns: list[str]


def display_name(name: str) -> str:
    # Only the last component of whatever the browser sent, for display and the import log.
    return (name or "").replace("\\", "/").rsplit("/", 1)[-1][:255] or "upload.csv"


def sweep() -> None:
    cutoff = time.time() - MAX_AGE_SECONDS
    for path in upload_dir().glob("upload-*.csv"):
        try:
            if path.stat().st_mtime < cutoff:
                path.unlink()
        except OSError:
            continue


def store(session: Any, upload: UploadedFile, program_id: int) -> StoredUpload:
    sweep()
    handle, name = tempfile.mkstemp(prefix="upload-", suffix=".csv", dir=upload_dir())
    with os.fdopen(handle, "wb") as out:
        for chunk in upload.chunks():
            out.write(chunk)
    stored = StoredUpload(
        token=secrets.token_urlsafe(24),
        path=Path(name),
        program_id=program_id,
        file_name=display_name(upload.name or ""),
        drop_columns=[],
    )
    save(session, stored)
    return stored


def save(session: Any, stored: StoredUpload) -> None:
    uploads = dict(session.get(SESSION_KEY, {}))
    uploads[stored.token] = {
        "path": str(stored.path),
        "program_id": stored.program_id,
        "file_name": stored.file_name,
        "drop_columns": stored.drop_columns,
    }
    session[SESSION_KEY] = uploads


def find(session: Any, token: str) -> StoredUpload | None:
    data = session.get(SESSION_KEY, {}).get(token)
    if not data:
        return None
    path = Path(data["path"])
    if path.parent != upload_dir() or not path.is_file():
        return None
    return StoredUpload(token, path, data["program_id"], data["file_name"], list(data["drop_columns"]))


def discard(session: Any, token: str) -> None:
    uploads = dict(session.get(SESSION_KEY, {}))
    data = uploads.pop(token, None)
    session[SESSION_KEY] = uploads
    if data:
        path = Path(data["path"])
        if path.parent == upload_dir():
            path.unlink(missing_ok=True)
