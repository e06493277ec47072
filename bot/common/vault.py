"""Encryption at rest for Xero tokens and Cloud POS API keys.

MultiFernet over the keys in TOKEN_ENCRYPTION_KEYS: the first key encrypts, every key
decrypts, so a new key is put first, `xero-bot rotate-keys` re-encrypts, and the old key is
dropped afterwards.
"""

from __future__ import annotations

from collections.abc import Sequence

from cryptography.fernet import Fernet, InvalidToken, MultiFernet


class VaultError(Exception):
    """A secret cannot be decrypted with any configured key. Never carries the secret."""


class Vault:
    def __init__(self, keys: Sequence[str]) -> None:
        if not keys:
            raise VaultError("TOKEN_ENCRYPTION_KEYS is empty: at least one key is needed.")
        self._fernet = MultiFernet([Fernet(key) for key in keys])

    def encrypt(self, secret: str) -> str:
        return self._fernet.encrypt(secret.encode()).decode()

    def decrypt(self, ciphertext: str) -> str:
        try:
            return self._fernet.decrypt(ciphertext.encode()).decode()
        except InvalidToken:
            raise VaultError(
                "A stored secret cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS; "
                "put back the key it was encrypted with."
            ) from None

    def rotate(self, ciphertext: str) -> str:
        """Re-encrypt `ciphertext` under the first key."""
        try:
            return self._fernet.rotate(ciphertext.encode()).decode()
        except InvalidToken:
            raise VaultError(
                "A stored secret cannot be decrypted with any key in TOKEN_ENCRYPTION_KEYS; "
                "put back the key it was encrypted with, then rotate again."
            ) from None
