"""The connection domain: every rule about connecting Cloud POS stores to Xero lives here.

Front doors (Slack, the consent pages, the CLI) call `ConnectionService` with plain values and
an actor, and get plain results or a `bot.domain.errors.DomainError` whose message is for people.
Each operation is one transaction and writes an audit event.
"""

from .authorisation import AuthorisationOperations
from .base import Dependencies, token_hash
from .choice import ChoiceOperations
from .customers import CustomerOperations
from .organisations import OrganisationOperations
from .pages import CustomerPageOperations
from .reporting import ReportingOperations


class ConnectionService(
    CustomerOperations,
    AuthorisationOperations,
    ChoiceOperations,
    CustomerPageOperations,
    OrganisationOperations,
    ReportingOperations,
):
    """All operations of the connection domain behind one object."""


__all__ = ["ConnectionService", "Dependencies", "token_hash"]
