"""The sync plan's decisions, table-driven, with a stub probe (pure logic, no HTTP)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from pr_warehouse.extract import plan as plan_module
from pr_warehouse.contracts import ExtractJob, SyncPlan
from pr_warehouse.extract.plan import ProbeAnswer, batch_jobs, expected_pages, plan_sync

T0 = datetime(2026, 11, 1, tzinfo=timezone.utc)
HOUR = timedelta(hours=1)


class StubStats:
    points_spent = 0
    requests = 0


class StubClient:
    stats = StubStats()


class StubGitHub:
    """What the probe would learn: each repo's newest change, PR count and deploys."""

    def __init__(self) -> None:
        self.newest: dict[str, datetime | None] = {}
        self.sizes: dict[str, int] = {}
        self.deploys: dict[str, bool | None] = {}

    def probe(self, client, repos):
        return {r: ProbeAnswer(self.newest.get(r), self.sizes.get(r), self.deploys.get(r))
                for r in repos}


@pytest.fixture()
def github(monkeypatch) -> StubGitHub:
    """Make the probe answer from dicts instead of GitHub."""
    stub = StubGitHub()
    monkeypatch.setattr(plan_module, "probe_newest_updates", stub.probe)
    return stub


@pytest.mark.parametrize(
    "watermark, github_newest, since, full_refresh, expected",
    [
        (None, T0, None, False, ("extract", None)),            # never synced: whole history
        (T0, T0, None, False, ("skip", None)),                 # nothing new since the watermark
        (T0, T0 + HOUR, None, False, ("extract", T0)),         # changed: from the watermark
        (T0, None, None, False, ("extract", T0)),              # probe could not tell: extract
        (T0, T0, T0 - 24 * HOUR, False, ("extract", T0 - 24 * HOUR)),  # since overrides
        (T0, T0 - 48 * HOUR, T0 - 24 * HOUR, False, ("skip", None)),  # nothing since `since`
        (T0, T0, None, True, ("extract", None)),               # full refresh: everything
    ],
)
def test_plan_decisions(github, watermark, github_newest, since, full_refresh, expected) -> None:
    github.newest["o/r"] = github_newest
    watermarks = {"o/r": watermark} if watermark else {}
    plan = plan_sync(StubClient(), ["o/r"], watermarks=watermarks, since=since,
                     full_refresh=full_refresh)
    decision = ("skip", None) if plan.skipped == ["o/r"] else ("extract", plan.extract["o/r"])
    assert decision == expected


@pytest.mark.parametrize(
    "watermark, probe_saw_deploys, stored, expected",
    [
        (None, False, False, (True, False)),   # one repo's first sync asks no probe: read
        (T0, False, False, (False, False)),    # still none: still nothing (1 point saved)
        (None, True, False, (True, False)),    # first sync with deploys: whole, as always
        (T0, True, True, (True, False)),       # daily run: from the watermark
        (T0, True, False, (True, True)),       # first deploys of a known repo: from the start
        (T0, None, False, (True, False)),      # probe could not tell: read, from the watermark
    ],
)
def test_deployments_are_read_where_the_probe_saw_some(
        github, watermark, probe_saw_deploys, stored, expected) -> None:
    github.newest["o/r"], github.deploys["o/r"] = T0 + HOUR, probe_saw_deploys
    plan = plan_sync(StubClient(), ["o/r"], watermarks={"o/r": watermark} if watermark else {},
                     stored_deploys=["O/R"] if stored else [])
    [job] = plan.jobs()
    assert (job.deploys, job.deploys_from_start) == expected
    assert job.deploys_since == (None if job.deploys_from_start else watermark)


def test_a_first_sync_of_several_reads_no_deploys_where_the_probe_saw_none(github) -> None:
    github.deploys.update({"o/a": False, "o/b": True})
    plan = plan_sync(StubClient(), ["o/a", "o/b", "o/c"], watermarks={})
    assert [(j.repo, j.deploys, j.deploys_since) for j in plan.jobs()] == [
        ("o/a", False, None), ("o/b", True, None), ("o/c", True, None)]


def test_largest_repositories_are_extracted_first(github) -> None:
    github.sizes.update({"o/small": 10, "o/big": 5000, "o/mid": 300})
    plan = plan_sync(StubClient(), ["o/small", "o/unknown", "o/big", "o/mid"], watermarks={})
    assert list(plan.extract) == ["o/unknown", "o/big", "o/mid", "o/small"]


def test_plan_is_json_ready_and_lists_its_jobs() -> None:
    plan = SyncPlan(extract={"o/a": T0, "o/b": None}, skipped=["o/c"], probe_points=1,
                    sizes={"o/a": 3}, singles={"o/d": (4, 7)}, without_deploys=["o/b"],
                    first_deploys=["o/a"])
    assert plan.to_json() == {"extract": {"o/a": T0.isoformat(), "o/b": None},
                              "skipped": ["o/c"], "sizes": {"o/a": 3}, "probe_points": 1,
                              "probe_requests": 0, "singles": {"o/d": [4, 7]},
                              "without_deploys": ["o/b"], "first_deploys": ["o/a"]}
    assert SyncPlan.from_json(plan.to_json()) == plan
    assert plan.repos == ["o/a", "o/b", "o/d"]
    jobs = plan.jobs()
    assert jobs == [ExtractJob("o/a", T0.isoformat(), deploys_from_start=True),
                    ExtractJob("o/b", deploys=False), ExtractJob("o/d", None, (4, 7))]
    assert [ExtractJob.from_json(job.to_json()) for job in jobs] == jobs


@pytest.mark.parametrize("repos, max_tasks, sizes", [
    (3, 10, [1, 1, 1]), (10, 10, [1] * 10), (11, 10, [2] * 5 + [1]), (3000, 40, [75] * 40),
])
def test_batches_stay_under_the_task_limit(repos, max_tasks, sizes) -> None:
    batches = batch_jobs([ExtractJob(f"o/r{i}") for i in range(repos)], max_tasks)
    assert [len(b.jobs) for b in batches] == sizes
    assert [repo for b in batches for repo in b.repos] == [f"o/r{i}" for i in range(repos)]
    assert len({b.folder for b in batches}) == len(batches)  # shared folders never collide


def test_a_large_org_packs_its_small_repositories_and_keeps_the_slots_balanced() -> None:
    """The bench's org (40 repositories, 10 to 5,000 PRs): 16 tasks, not 40, every
    repository in exactly one, none shared above its share (1/24 of the pages), and largest
    first, so four slots taking the next task when free stay within 5% of the ideal."""
    sizes = {f"o/r{i}": round(10 * 500 ** (i / 39)) for i in range(40)}
    jobs = [ExtractJob(repo) for repo in sorted(sizes, key=lambda r: -sizes[r])]
    pages = {repo: expected_pages(n, 29) for repo, n in sizes.items()}
    batches = batch_jobs(jobs, 500, pages, 24)
    weights = [sum(pages[repo] for repo in b.repos) for b in batches]
    share = sum(pages.values()) // 24

    assert sorted(repo for b in batches for repo in b.repos) == sorted(sizes)
    assert 12 <= len(batches) <= 20, weights
    assert all(w <= share for b, w in zip(batches, weights) if len(b.jobs) > 1)
    assert weights == sorted(weights, reverse=True)
    slots = [0] * 4
    for weight in weights:  # what the pool does: the next task goes to the first free slot
        slots[slots.index(min(slots))] += weight
    ideal = max(max(pages.values()), sum(pages.values()) / 4)
    assert max(slots) <= 1.05 * ideal, (slots, ideal)


def test_a_few_repositories_keep_a_task_each_whatever_their_size() -> None:
    jobs = [ExtractJob(f"o/r{i}") for i in range(16)]
    batches = batch_jobs(jobs, 500, {job.repo: 1 for job in jobs}, 16)
    assert [b.repos for b in batches] == [[job.repo] for job in jobs]
