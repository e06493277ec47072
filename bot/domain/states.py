"""The states the domain speaks of. Storage keeps them as columns; front doors read them here."""

from storage.models import ConnectionStatus, ConsentStatus, GrantStatus, StoreStatus

__all__ = ["ConnectionStatus", "ConsentStatus", "GrantStatus", "StoreStatus"]
