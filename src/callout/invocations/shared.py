"""The runtime's state shared through Redis (CALLOUT_REDIS_URL), wired from the settings:
the link, tokens and sessions sealed with the database's keyring, and breakers and caps."""

import time

from callout.db.crypto import Binding, KeySource, Sealed
from callout.errors import SecretUnreadable
from callout.invocations import prometheus
from callout.runtime.shared.limits import SharedLimits
from callout.runtime.shared.link import Link
from callout.runtime.shared.tokens import RedisTokenStore
from callout.settings import Settings


class KeyringSealer:
    """Seals what the runtime keeps in Redis as stored secrets are sealed: AES-GCM under the
    keyring's active key, bound to the Redis key it is kept under, so a value copied to
    another key does not open. A value sealed under a key the keyring no longer holds reads
    as absent: the token is fetched again."""

    def __init__(self, keys: KeySource) -> None:
        self.keys = keys

    def seal(self, text: str, where: str) -> bytes:
        sealed = self.keys.keyring().seal(text, _binding(where))
        return f"{sealed.key_id}:{sealed.ciphertext}".encode()

    def open(self, sealed: bytes, where: str) -> str | None:
        key_id, _, ciphertext = sealed.decode().partition(":")
        try:
            return self.keys.keyring().open(Sealed(key_id, ciphertext), _binding(where))
        except SecretUnreadable:
            return None


def _binding(where: str) -> Binding:
    return Binding(0, "redis", where)


async def shared_store(
    settings: Settings, keys: KeySource
) -> tuple[Link, RedisTokenStore, SharedLimits]:
    """The Redis link, started, and the token store, breakers and caps over it (their
    channels subscribed before it starts)."""
    assert settings.redis_url is not None
    link = Link(
        settings.redis_url,
        settings.redis_namespace,
        on_state=lambda up: prometheus.redis_connected(up, "runtime"),
    )
    store = RedisTokenStore(link, KeyringSealer(keys), time.time)
    limits = SharedLimits(link, settings.client_max_in_flight)
    await link.start()
    limits.start()
    return link, store, limits
