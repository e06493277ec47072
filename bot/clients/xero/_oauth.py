"""authlib's httpx OAuth 2.0 client, imported once.

authlib 1.9 prefers the httpx2 fork and warns when it falls back to httpx, which this project
uses on purpose (respx mocks it); a test asserts the fallback still yields an httpx client.
"""

import warnings

from authlib.deprecate import AuthlibDeprecationWarning

with warnings.catch_warnings():
    warnings.simplefilter("ignore", AuthlibDeprecationWarning)
    from authlib.integrations.httpx_client import AsyncOAuth2Client

OAuthError = AsyncOAuth2Client.oauth_error_class


__all__ = ["AsyncOAuth2Client", "OAuthError"]
