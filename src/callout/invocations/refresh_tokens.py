"""Refresh tokens the runtime obtained (rotated, or first issued), handed back to the API's
encrypted storage."""

import asyncio
import logging

from callout.apis.service import REFRESH_TOKEN
from callout.db.crypto import KeySource
from callout.db.engine import Database
from callout.db.secrets import Vault
from callout.runtime.auth.tokens import Owner

log = logging.getLogger("callout.credentials")


class DatabaseCredentials:
    """Stores a rotated refresh token, sealed, with a compare-and-swap on the stored one:
    if another worker stored a newer token meanwhile, that one stays."""

    def __init__(self, database: Database, keys: KeySource) -> None:
        self.database = database
        self.keys = keys

    async def save_refresh_token(self, owner: Owner, old: str | None, new: str) -> None:
        await asyncio.to_thread(self._save, owner, old, new)

    def _save(self, owner: Owner, old: str | None, new: str) -> None:
        with self.database.transaction() as session:
            vault = Vault(session, self.keys.keyring(), owner.client_id)
            stored = vault.swap(owner.api_id, REFRESH_TOKEN, old, new)
        log.info(
            "refresh token for client=%s api=%s %s",
            owner.client_id,
            owner.api_id,
            "stored" if stored else "not stored: a newer one is kept",
        )
