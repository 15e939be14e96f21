"""The one test harness: free ports, a real Airflow on loopback, GitHub connections for the
bundled emulator, the browser the UI tests drive.

- :mod:`tests.support.ports`: :func:`~tests.support.ports.free_port`.
- :mod:`tests.support.airflow`: :class:`~tests.support.airflow.Airflow` (a private home, its
  environment, ``airflow`` CLI commands, long-running components, health waits, a clean
  stop), :func:`~tests.support.airflow.airflow_env`, :func:`~tests.support.airflow.airflow_cli`,
  :func:`~tests.support.airflow.get_json`.
- :mod:`tests.support.connections`: the ``AIRFLOW_CONN_GITHUB_DEFAULT`` value, built from the
  product's own :func:`pr_warehouse.cli.github_connection`; the emulator's token.
- :mod:`tests.support.browser`: Debian's Chromium for Playwright.

The tests import it as ``tests.support`` (``pytest.ini`` puts the checkout's root on the path;
``tests`` is a namespace package, it has no ``__init__.py`` so ``from conftest import ROOT``
keeps working), and so does the benchmark (``python -m bench`` from the checkout's root).
Production code (``src/``) never imports it.
"""
