"""A safety net that keeps GitHub credentials (tokens, an App's key and JWTs) out of log lines.

The client never logs headers and never puts the token in messages; this filter is the
second line: any record passing through a logger or handler it is installed on has every
known secret replaced by ``***``.

>>> import logging
>>> install_redaction("ghp_example_secret_value", logging.getLogger("demo"))
>>> redact("Authorization: bearer ghp_example_secret_value")
'Authorization: bearer ***'
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

MASK = "***"
#: secrets shorter than this are not masked (masking "abc" would mangle ordinary words);
#: the same rule as Airflow's secrets masker
MIN_SECRET_LENGTH = 5
#: loggers covered by default: this package's and the HTTP stack's
DEFAULT_LOGGERS = (
    "pr_warehouse.client",
    "pr_warehouse.client.graphql",
    "pr_warehouse.client.connection",
    "pr_warehouse.client.auth",
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.util.retry",
    "requests",
)


class RedactingFilter(logging.Filter):
    """Replaces registered secrets in a record's message, arguments and traceback text."""

    def __init__(self) -> None:
        super().__init__()
        self._secrets: frozenset[str] = frozenset()
        self._lock = threading.Lock()

    def add(self, secret: str | None) -> None:
        """Register one more secret (ignored when empty or too short to mask safely)."""
        if not secret or len(secret) < MIN_SECRET_LENGTH:
            return
        with self._lock:
            self._secrets = self._secrets | {secret}

    def redact(self, text: str) -> str:
        """``text`` with every registered secret replaced by ``***``."""
        for secret in self._secrets:
            if secret in text:
                text = text.replace(secret, MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        if not self._secrets:
            return True
        try:
            message = record.getMessage()
        except Exception:  # a malformed record: redact what we can see
            message = str(record.msg)
        cleaned = self.redact(message)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


#: one filter for the process, so every client's token is masked everywhere it is installed
REDACTOR = RedactingFilter()


def redact(text: str) -> str:
    """``text`` with every token registered so far masked."""
    return REDACTOR.redact(text)


#: called with every secret registered (e.g. Airflow's ``mask_secret``, added by the code
#: that reads the connection: this package must not import Airflow)
SECRET_HOOKS: list[Callable[[str], None]] = []


def add_secret_hook(hook: Callable[[str], None]) -> None:
    """Also hand every secret registered from now on to ``hook`` (once per hook)."""
    if hook not in SECRET_HOOKS:
        SECRET_HOOKS.append(hook)


def register_secret(secret: str | None) -> None:
    """Mask ``secret`` wherever the filter runs and hand it to the hooks.

    For secrets made at run time (a GitHub App's JWTs and installation tokens), which no
    one configured and so no other masker knows.

    >>> register_secret("ghs_runtime_secret_1")
    >>> redact("token ghs_runtime_secret_1 issued")
    'token *** issued'
    """
    if not secret or len(secret) < MIN_SECRET_LENGTH:
        return
    REDACTOR.add(secret)
    for hook in SECRET_HOOKS:
        hook(secret)


def install_redaction(
    token: str | None, *targets: logging.Logger | logging.Handler
) -> None:
    """Register ``token`` and install the redacting filter on ``targets``.

    Without targets, installs on this package's loggers and urllib3's/requests'. Pass
    handlers (e.g. ``*logging.getLogger().handlers``) to cover records from every logger
    that reaches them: a logger's filter only sees records logged on that very logger.

    >>> install_redaction("ghp_another_secret", *logging.getLogger().handlers)
    """
    register_secret(token)
    chosen = targets or tuple(logging.getLogger(name) for name in DEFAULT_LOGGERS)
    for target in chosen:
        target.addFilter(REDACTOR)  # no-op when already installed
