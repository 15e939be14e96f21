"""HTTP transport to GitHub's GraphQL API that survives its limits and faults.

>>> from pr_warehouse.client import AdaptivePageSize, ClientSettings, GraphQLClient
>>> AdaptivePageSize(50).current
50

See ``graphql`` for the client, ``classify`` for what each answer means and how long to
wait, ``paging`` for the adaptive page size, ``redaction`` for keeping secrets out of logs,
``auth`` for tokens and GitHub App installation tokens, ``connection`` for building a client
from Airflow connections.
"""

from pr_warehouse.client.auth import (
    AppCredentials,
    InstallationToken,
    StaticToken,
    TokenPool,
    refresh_margin,
)
from pr_warehouse.client.classify import classify, failure_name, retry_wait
from pr_warehouse.client.connection import (
    client_from_connection,
    endpoints,
    graphql_url,
    parse_connection,
)
from pr_warehouse.client.errors import (
    BadCertificate,
    BadCredentials,
    Forbidden,
    GitHubError,
    HostUnreachable,
    InvalidConnection,
    MaxNodeLimitExceeded,
    MissingToken,
    NotFound,
    PartialDataError,
    PrimaryRateLimited,
    QueryError,
    RateLimitWait,
    RequestTimeout,
    RetriesExhausted,
    SecondaryRateLimited,
    ServerError,
    TokenExchangeFailed,
)
from pr_warehouse.client.graphql import GraphQLClient
from pr_warehouse.client.models import ClientSettings, ClientStats, GraphQLResponse, utc_now
from pr_warehouse.client.paging import AdaptivePageSize
from pr_warehouse.client.redaction import install_redaction, redact

__all__ = [
    "AdaptivePageSize",
    "AppCredentials",
    "BadCertificate",
    "BadCredentials",
    "ClientSettings",
    "ClientStats",
    "Forbidden",
    "GitHubError",
    "GraphQLClient",
    "GraphQLResponse",
    "HostUnreachable",
    "InstallationToken",
    "InvalidConnection",
    "MaxNodeLimitExceeded",
    "MissingToken",
    "NotFound",
    "PartialDataError",
    "PrimaryRateLimited",
    "QueryError",
    "RateLimitWait",
    "RequestTimeout",
    "RetriesExhausted",
    "SecondaryRateLimited",
    "ServerError",
    "StaticToken",
    "TokenExchangeFailed",
    "TokenPool",
    "classify",
    "client_from_connection",
    "endpoints",
    "failure_name",
    "graphql_url",
    "install_redaction",
    "parse_connection",
    "redact",
    "refresh_margin",
    "retry_wait",
    "utc_now",
]
