"""HTTP transport to GitHub's GraphQL API that survives its limits and faults.

>>> from pr_warehouse.client import AdaptivePageSize, ClientSettings, GraphQLClient
>>> AdaptivePageSize(50).current
50

See ``graphql`` for the client, ``classify`` for what each answer means and how long to
wait, ``paging`` for the adaptive page size, ``redaction`` for keeping the token out of logs,
``connection`` for building a client from an Airflow connection.
"""

from pr_warehouse.client.classify import classify, failure_name, retry_wait
from pr_warehouse.client.connection import client_from_connection, graphql_url
from pr_warehouse.client.errors import (
    BadCredentials,
    Forbidden,
    GitHubError,
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
)
from pr_warehouse.client.graphql import GraphQLClient
from pr_warehouse.client.models import ClientSettings, ClientStats, GraphQLResponse, utc_now
from pr_warehouse.client.paging import AdaptivePageSize
from pr_warehouse.client.redaction import install_redaction, redact

__all__ = [
    "AdaptivePageSize",
    "BadCredentials",
    "ClientSettings",
    "ClientStats",
    "Forbidden",
    "GitHubError",
    "GraphQLClient",
    "GraphQLResponse",
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
    "classify",
    "client_from_connection",
    "failure_name",
    "graphql_url",
    "install_redaction",
    "redact",
    "retry_wait",
    "utc_now",
]
