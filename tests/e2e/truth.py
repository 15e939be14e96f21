"""Ground truth from the emulator's world, in the shape of the marts' keys.

Each function walks the world's objects directly (never the API), so a mart that matches
it holds exactly what GitHub (the emulator) would serve.
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime, timezone
from typing import Any

GHOST = "ghost"


def repositories(world: Any, org: str = "acme") -> list[Any]:
    """The non-archived repositories an org owns (what `orgs: [org]` syncs)."""
    return [r for r in world.repositories() if r.owner.login == org and not r.is_archived]


def pull_requests(repos: list[Any]) -> dict[tuple[str, int], Any]:
    return {(r.name_with_owner, pr.number): pr for r in repos for pr in r.pull_requests}


def author(pr: Any) -> tuple[str, str]:
    """``(login, kind)`` as the fact shows it: a deleted account is ``ghost``."""
    if pr.author is None or pr.author.deleted:
        return GHOST, GHOST
    return pr.author.login, pr.author.kind.value


def label_rows(prs: dict[tuple[str, int], Any]) -> set[tuple[str, int, str]]:
    return {(repo, n, label.name) for (repo, n), pr in prs.items() for label in pr.labels}


def assignee_rows(prs: dict[tuple[str, int], Any]) -> set[tuple[str, int, str]]:
    return {(repo, n, a.login) for (repo, n), pr in prs.items() for a in pr.assignees
            if not a.deleted}


def linked_issue_rows(prs: dict[tuple[str, int], Any]) -> set[tuple[str, int, str, int]]:
    return {(repo, n, i.repository.name_with_owner, i.number)
            for (repo, n), pr in prs.items() for i in pr.closing_issues}


def fact_rows(prs: dict[tuple[str, int], Any]) -> set[tuple]:
    """``(repo, number, state, is_draft, author_login, author_kind, milestone_number)``."""
    return {
        (repo, n, pr.state, pr.is_draft, *author(pr),
         pr.milestone.number if pr.milestone else None)
        for (repo, n), pr in prs.items()
    }


FACT_SQL = """
    select repo, pr_number, state, is_draft, author_login, author_kind, milestone_number
    from analytics.fct_pull_requests
"""
LABELS_SQL = "select repo, pr_number, label_name from analytics.bridge_pull_request_labels"
ASSIGNEES_SQL = "select repo, pr_number, assignee_login from analytics.bridge_pull_request_assignees"
LINKED_SQL = """select repo, pr_number, issue_repo, issue_number
                from analytics.bridge_pull_request_linked_issues"""


def assert_warehouse_matches(pipeline: Any, repos: list[Any]) -> None:
    """Every mart key row equals the ground truth, and nothing is duplicated; every span
    of the label, assignee and milestone span facts too, column by column."""
    prs = pull_requests(repos)
    facts = pipeline.query(FACT_SQL)
    assert len(facts) == len(set(facts)) == len(prs)
    assert set(facts) == fact_rows(prs)
    for sql, expected in ((LABELS_SQL, label_rows(prs)), (ASSIGNEES_SQL, assignee_rows(prs)),
                          (LINKED_SQL, linked_issue_rows(prs))):
        got = pipeline.query(sql)
        assert len(got) == len(set(got)), f"duplicates in {sql}"
        assert set(got) == expected, sql
    assert_reviews_match(pipeline, prs)
    for kind, sql in SPANS_SQL.items():
        got = pipeline.query(sql)
        expected = span_rows(prs, kind)
        assert len(got) == len(set(got)), f"duplicate spans in {sql}"
        missing, extra = expected - set(got), set(got) - expected
        assert not missing and not extra, (kind, sorted(missing)[:5], sorted(extra)[:5])


# --- label, assignee and milestone spans (fct_pull_request_*_spans) ----------------------
# From the world's objects, by the definitions: replaying each PR's timeline as GitHub
# orders it (time, then the event's place in the timeline), never from the SQL.

HISTORY_EVENTS = {
    "label": ("LabeledEvent", "UnlabeledEvent"),
    "assignee": ("AssignedEvent", "UnassignedEvent"),
    "milestone": ("MilestonedEvent", "DemilestonedEvent"),
}
SPANS_SQL = {
    "label": "select repo, pr_number, label_name, added_at, removed_at, added_by "
             "from analytics.fct_pull_request_label_spans",
    "assignee": "select repo, pr_number, assignee_login, assigned_at, unassigned_at, "
                "assigned_by from analytics.fct_pull_request_assignee_spans",
    "milestone": "select repo, pr_number, milestone_title, added_at, removed_at, added_by "
                 "from analytics.fct_pull_request_milestone_spans",
}


def _named(event: Any, kind: str) -> str | None:
    """What a history event is about, as GitHub serves it (None: not of ``kind``, or an
    assignee whose account was deleted, which GitHub returns as null)."""
    if event.kind not in HISTORY_EVENTS[kind]:
        return None
    if kind == "label":
        return event.label.name
    if kind == "assignee":
        return login(event.assignee)
    return event.milestone_title


def carried(pr: Any, kind: str) -> set[str]:
    """What the PR's own fields say it carries now."""
    if kind == "label":
        return {label.name for label in pr.labels}
    if kind == "assignee":
        return {a.login for a in pr.assignees if not a.deleted}
    return {pr.milestone.title} if pr.milestone else set()


def spans(pr: Any, kind: str) -> list[tuple[str, Any, Any, str | None]]:
    """``(item, added_at, removed_at, added_by)`` of every span of ``kind`` on ``pr``.

    Replays the events: an adding event opens a span; a removing event closes every span
    of that item still open (each was opened before it, and it is the first removal after
    them); a removing event that is the item's first event closes a span open since the
    PR's opening. Then each item the PR carries that no adding event ever named is on it
    since the opening, still."""
    added, removed = HISTORY_EVENTS[kind]
    events = sorted((e for e in pr.timeline if _named(e, kind) is not None),
                    key=lambda e: (e.created_at, e.local_id))
    out: list[tuple[str, Any, Any, str | None]] = []
    still_open: dict[str, list[tuple[Any, str | None]]] = {}
    seen: set[str] = set()
    ever_added: set[str] = set()
    for event in events:
        item = _named(event, kind)
        assert item is not None
        if event.kind == added:
            still_open.setdefault(item, []).append((event.created_at, login(event.actor) or GHOST))
            ever_added.add(item)
        else:
            if item not in seen:
                out.append((item, pr.created_at, event.created_at, None))
            for started, by in still_open.pop(item, []):
                out.append((item, started, event.created_at, by))
        seen.add(item)
    for item, opened in still_open.items():
        out += [(item, started, None, by) for started, by in opened]
    out += [(item, pr.created_at, None, None) for item in carried(pr, kind) - ever_added]
    return out


def span_rows(prs: dict[tuple[str, int], Any], kind: str) -> set[tuple]:
    return {(repo, n, *span) for (repo, n), pr in prs.items() for span in spans(pr, kind)}


def label_time_rows(prs: dict[tuple[str, int], Any], as_of: Any) -> Counter:
    """``(repo, number, label, added_at, held_until)`` of every label span that held its
    PR while open (fct_pull_request_label_time): a span holds until the first of its
    removal, the PR's close and ``as_of``; one added after the close holds nothing."""
    out: Counter = Counter()
    for (repo, number), pr in prs.items():
        stop = min(pr.closed_at or as_of, as_of)
        for label, added, removed, _ in spans(pr, "label"):
            until = min(removed or stop, stop)
            if until >= added:
                out[(repo, number, label, added, until)] += 1
    return out


# --- cycle time (fct_pull_request_cycle_time, mart_cycle_time_weekly) -------------------
# Written from the issue's definitions against the world's objects, never from the SQL.

DRAFT_KINDS = ("ReadyForReviewEvent", "ConvertToDraftEvent")


def login(actor: Any) -> str | None:
    """The login GitHub shows: none for a deleted account."""
    return None if actor is None or actor.deleted else actor.login


def is_bot(actor: Any) -> bool:
    """Bot type or a ``[bot]`` login; a deleted account is not a bot."""
    if actor is None or actor.deleted:
        return False
    return actor.kind.value == "Bot" or actor.login.endswith("[bot]")


def hours(start: Any, end: Any) -> float | None:
    return None if start is None or end is None else (end - start).total_seconds() / 3600


def draft_spells(pr: Any, as_of: Any) -> tuple[bool, Any, list[tuple[Any, Any]]]:
    """``(created_as_draft, ready_for_review_at, [(draft start, draft end)])``."""
    moves = sorted((e for e in pr.timeline if e.kind in DRAFT_KINDS),
                   key=lambda e: (e.created_at, e.local_id))
    created_as_draft = moves[0].kind == "ReadyForReviewEvent" if moves else pr.is_draft
    readies = [e.created_at for e in moves if e.kind == "ReadyForReviewEvent"]
    ready = (min(readies) if readies else None) if created_as_draft else pr.created_at
    stop = as_of if pr.state == "OPEN" else (pr.merged_at or pr.closed_at or as_of)
    spells, started = [], pr.created_at if created_as_draft else None
    for event in moves:
        if event.kind == "ConvertToDraftEvent" and started is None:
            started = event.created_at
        elif event.kind == "ReadyForReviewEvent" and started is not None:
            spells.append((started, event.created_at))
            started = None
    if started is not None:
        spells.append((started, stop))
    return created_as_draft, ready, [(s, min(e, stop)) for s, e in spells if s < stop]


def draft_seconds_within(spells: list[tuple[Any, Any]], start: Any, end: Any) -> float:
    return sum(max(0.0, (min(e, end) - max(s, start)).total_seconds()) for s, e in spells)


def responses(pr: Any) -> list[tuple[Any, str, str | None]]:
    """``(at, "review"|"comment", review state)`` of every response to ``pr``."""
    found = [(r.submitted_at, "review", r.state, r.author) for r in pr.reviews
             if r.state != "PENDING" and r.submitted_at is not None]
    found += [(c.created_at, "comment", None, c.author) for c in pr.comments]
    return sorted((at, kind, state) for at, kind, state, who in found
                  if login(who) != login(pr.author) and not is_bot(who)
                  and (pr.closed_at is None or at < pr.closed_at))


def review_thread_comments(pr: Any) -> list[Any]:
    """The review-thread comments review_comment_count counts: published with a submitted
    review by neither the PR's author nor a bot, written before the close or merge."""
    return [c for r in pr.reviews if r.state != "PENDING" and r.submitted_at is not None
            and login(r.author) != login(pr.author) and not is_bot(r.author)
            for c in r.comments if pr.closed_at is None or c.created_at < pr.closed_at]


def size_bucket(changed: int) -> str:
    for bucket, most in (("XS", 10), ("S", 100), ("M", 500), ("L", 1000)):
        if changed <= most:
            return bucket
    return "XL"


def cycle_time_row(pr: Any, as_of: Any) -> dict[str, Any]:
    """Every column of fct_pull_request_cycle_time for one PR, by the definitions."""
    _, ready, spells = draft_spells(pr, as_of)
    answered = responses(pr)
    first_response = min((at for at, _, _ in answered if ready is not None and at >= ready),
                         default=None)
    approval = min((at for at, kind, state in answered
                    if kind == "review" and state == "APPROVED"), default=None)
    first_commit = pr.commits[0].authored_at if pr.commits else None
    merged = pr.merged_at
    pickup = hours(ready, first_response)
    review = hours(first_response, merged)
    coding = hours(first_commit, ready)
    requested = [e.created_at for e in pr.timeline if e.kind == "ReviewRequestedEvent"]
    # Review depth and rework: the reviews among the responses; a round per changes
    # requested that a commit answered before the next strictly later review.
    reviews = [(at, state) for at, kind, state in answered if kind == "review"]
    committed = [c.committed_at for c in pr.commits]
    answered_requests = 0
    for at, state in reviews:
        later = [other for other, _ in reviews if other > at]
        until = min(later) if later else None
        if state == "CHANGES_REQUESTED" and any(
                at < moment and (until is None or moment < until) for moment in committed):
            answered_requests += 1
    pushed = [e.created_at for e in pr.timeline if e.kind == "HeadRefForcePushedEvent"]
    return {
        "author_login": login(pr.author) or GHOST,
        "is_bot_author": is_bot(pr.author),
        "first_commit_at": first_commit,
        "opened_at": pr.created_at,
        "ready_for_review_at": ready,
        "draft_hours": sum((e - s).total_seconds() for s, e in spells) / 3600,
        "first_review_requested_at": min(requested, default=None),
        "first_response_at": first_response,
        "first_approval_at": approval,
        "merged_at": merged,
        "coding_hours": None if coding is None else max(coding, 0.0),
        "pickup_hours": None if pickup is None else
        pickup - draft_seconds_within(spells, ready, first_response) / 3600,
        "review_hours": None if review is None else
        review - draft_seconds_within(spells, first_response, merged) / 3600,
        "cycle_hours": hours(first_commit or pr.created_at, merged),
        "merged_without_review": merged is not None and not any(
            kind == "review" and at < merged for at, kind, _ in answered),
        "size_bucket": size_bucket(pr.additions + pr.deletions),
        "commit_count": len(pr.commits),
        "comment_count": len(pr.comments),
        "review_thread_count": pr.review_thread_count,
        "review_count": len(reviews),
        "review_comment_count": len(review_thread_comments(pr)),
        "review_rounds": 0 if first_response is None else 1 + answered_requests,
        "commits_after_first_response": 0 if first_response is None else
        sum(1 for moment in committed if moment > first_response),
        "force_pushes_after_first_response": 0 if first_response is None else
        sum(1 for moment in pushed if moment > first_response),
    }


CYCLE_TIME_COLUMNS = [
    "author_login", "is_bot_author", "first_commit_at", "opened_at", "ready_for_review_at",
    "draft_hours", "first_review_requested_at", "first_response_at", "first_approval_at",
    "merged_at", "coding_hours", "pickup_hours", "review_hours", "cycle_hours",
    "merged_without_review", "size_bucket", "commit_count", "comment_count",
    "review_thread_count", "review_count", "review_rounds", "commits_after_first_response",
    "force_pushes_after_first_response", "review_comment_count",
]


def first_review_hours(pr: Any) -> float | None:
    """fct_pull_requests.hours_to_first_review: non-PENDING, non-author; bots count."""
    at = min((r.submitted_at for r in pr.reviews if r.state != "PENDING" and r.submitted_at
              and login(r.author) != login(pr.author)), default=None)
    return hours(pr.created_at, at)


def quantile_cont(values: list[float], q: float) -> float | None:
    """Linear interpolation between closest ranks (DuckDB's quantile_cont)."""
    ordered = sorted(values)
    if not ordered:
        return None
    position = q * (len(ordered) - 1)
    low = int(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def cycle_time_weekly_rows(prs: dict[tuple[str, int], Any], as_of: Any
                           ) -> dict[tuple[str, str], dict[str, Any]]:
    """mart_cycle_time_weekly by (repo, ISO week): human-authored PRs merged that week."""
    weeks: dict[tuple[str, str], list[tuple[Any, dict[str, Any]]]] = {}
    for (repo, _), pr in prs.items():
        row = cycle_time_row(pr, as_of)
        if pr.merged_at is None or row["is_bot_author"]:
            continue
        year, week, _ = pr.merged_at.isocalendar()
        weeks.setdefault((repo, f"{year}-W{week:02d}"), []).append((pr, row))
    out = {}
    for key, group in weeks.items():
        unreviewed = sum(row["merged_without_review"] for _, row in group)
        figures: dict[str, Any] = {"prs_merged": len(group),
                                   "prs_merged_without_review": unreviewed,
                                   "share_merged_without_review": unreviewed / len(group)}
        for phase in ("coding", "pickup", "review", "cycle"):
            values = [row[f"{phase}_hours"] for _, row in group
                      if row[f"{phase}_hours"] is not None]
            figures[f"median_{phase}_hours"] = quantile_cont(values, 0.5)
            figures[f"p90_{phase}_hours"] = quantile_cont(values, 0.9)
        reviewed = [h for h in (first_review_hours(pr) for pr, _ in group) if h is not None]
        merge = [hours(pr.created_at, pr.merged_at) for pr, _ in group]
        figures.update({
            "prs_merged_with_review": len(reviewed),
            "median_hours_to_first_review": quantile_cont(reviewed, 0.5),
            "p90_hours_to_first_review": quantile_cont(reviewed, 0.9),
            "median_hours_to_merge": quantile_cont(merge, 0.5),
            "p90_hours_to_merge": quantile_cont(merge, 0.9),
        })
        out[key] = figures
    return out


# --- reviews (fct_pull_request_reviews) ---------------------------------------------------
# From the definitions in its yml, against the world's reviews, never from the SQL.

REVIEW_COLUMNS = [
    "pull_request_id", "repo", "pr_number", "reviewer_login", "reviewer_kind", "review_state",
    "submitted_at", "is_bot_reviewer", "is_self_review", "is_review_given",
]


def review_rows(prs: dict[tuple[str, int], Any]) -> dict[str, dict[str, Any]]:
    """Every column of fct_pull_request_reviews, by review id: every review of every PR,
    PENDING ones included. A deleted reviewer is ``ghost``/``ghost`` and not a bot; a
    self-review is one by the PR's author (a deleted reviewer on a PR whose author was
    deleted too cannot be told apart: it is one); a review given is submitted (not
    PENDING) and not a self-review, bots included."""
    rows: dict[str, dict[str, Any]] = {}
    for (repo, number), pr in prs.items():
        for review in pr.reviews:
            reviewer = login(review.author)
            own = reviewer == login(pr.author)
            rows[review.id] = {
                "pull_request_id": pr.id,
                "repo": repo,
                "pr_number": number,
                "reviewer_login": reviewer or GHOST,
                "reviewer_kind": review.author.kind.value if reviewer else GHOST,
                "review_state": review.state,
                "submitted_at": review.submitted_at,
                "is_bot_reviewer": is_bot(review.author),
                "is_self_review": own,
                "is_review_given": review.state != "PENDING" and not own,
            }
    return rows


REVIEWS_SQL = (f"select review_id, {', '.join(REVIEW_COLUMNS)} "
               "from analytics.fct_pull_request_reviews")


def assert_reviews_match(pipeline: Any, prs: dict[tuple[str, int], Any]) -> None:
    """fct_pull_request_reviews holds one row per review of the world, every column as
    :func:`review_rows` computes it."""
    expected = review_rows(prs)
    rows = pipeline.query(REVIEWS_SQL)
    got = {r[0]: dict(zip(REVIEW_COLUMNS, r[1:])) for r in rows}
    assert len(rows) == len(got), "duplicate review ids in fct_pull_request_reviews"
    assert set(got) == set(expected), (set(got) ^ set(expected))
    mismatches = [(review_id, column, got[review_id][column], value)
                  for review_id, row in expected.items() for column, value in row.items()
                  if got[review_id][column] != value]
    assert not mismatches, mismatches[:20]


# --- teams (dim_team_memberships, bridge_pull_request_teams) ------------------------------
# From the definitions in their yml, against the world's team history (what each
# organization's teams were from when on), never from the SQL or the raw tables.


class TeamSync:
    """One run's teams step as the test saw it: the world clock then (GitHub's clock, the
    sync time), the organizations whose teams it read, and the teams file it read."""

    def __init__(self, at: Any, orgs: list[str], file_teams: dict[str, list[str]] | None = None
                 ) -> None:
        self.at, self.orgs, self.file_teams = at, [o.lower() for o in orgs], file_teams or {}


def team_state(owner: Any, at: Any) -> dict[str, tuple[str, str | None, dict[str, str]]]:
    """The organization's teams at ``at``: the latest recorded state at or before it."""
    states = [state for when, state in owner.team_history if when <= at]
    return states[-1] if states else {}


def github_memberships(owner: Any, at: Any) -> set[tuple]:
    """``(team, team_name, org, login, role, is_inherited, "github")`` at ``at``: immediate
    members with their role, and every team above theirs as an inherited MEMBER (unless
    direct there too)."""
    state = team_state(owner, at)
    direct: dict[tuple[str, str], str] = {}
    inherited: set[tuple[str, str]] = set()
    for slug, (_, _, members) in state.items():
        for member, role in members.items():
            direct[(slug, member)] = role
            parent, seen = state[slug][1], {slug}
            while parent is not None and parent not in seen:
                inherited.add((parent, member))
                seen.add(parent)
                parent = state[parent][1] if parent in state else None
    rows = set()
    for (slug, member) in set(direct) | inherited:
        name = state[slug][0] if slug in state else slug
        role = direct.get((slug, member))
        rows.add((f"{owner.login}/{slug}", name, owner.login.lower(), member,
                  role or "MEMBER", role is None, "github"))
    return rows


def memberships_at(world: Any, syncs: list[TeamSync], instant: Any) -> set[tuple]:
    """Every membership in force at ``instant``: the file's latest sync for the logins it
    lists, each organization's latest read (at or before it) for everyone else."""
    past = [s for s in syncs if s.at <= instant]
    file_rows = set()
    if past:
        for team, logins in past[-1].file_teams.items():
            for member in logins:
                file_rows.add((team, team, None, member, "MEMBER", False, "file"))
    listed = {row[3].lower() for row in file_rows}
    rows = set(file_rows)
    for org in {o for s in past for o in s.orgs}:
        read = max(s.at for s in past if org in s.orgs)
        rows |= {row for row in github_memberships(world.owners[org], read)
                 if row[3].lower() not in listed}
    return rows


TEAM_COLUMNS = ["team", "team_name", "org", "login", "role", "is_inherited", "source",
                "valid_from", "valid_to", "is_current"]


def team_membership_rows(world: Any, syncs: list[TeamSync]) -> set[tuple]:
    """dim_team_memberships: spans of unbroken runs of sync instants with the same row."""
    open_rows: dict[tuple, Any] = {}  # row in force -> since when
    out = set()
    for instant in sorted({s.at for s in syncs}):  # every run records the file: an instant
        now = memberships_at(world, syncs, instant)
        for row in list(open_rows):
            if row not in now:
                out.add((*row, open_rows.pop(row), instant, False))
        for row in now:
            open_rows.setdefault(row, instant)
    return out | {(*row, start, None, True) for row, start in open_rows.items()}


TEAMS_SQL = f"select {', '.join(TEAM_COLUMNS)} from analytics.dim_team_memberships"
BRIDGE_TEAM_COLUMNS = ["pull_request_id", "team", "member_login", "membership_source",
                       "attributed_by", "membership_valid_from"]
BRIDGE_TEAMS_SQL = (f"select {', '.join(BRIDGE_TEAM_COLUMNS)} "
                    "from analytics.bridge_pull_request_teams")


def pull_request_team_rows(prs: dict[tuple[str, int], Any], memberships: set[tuple]
                           ) -> set[tuple]:
    """bridge_pull_request_teams: each human PR's author's spans holding ``opened_at``, or,
    opened before the author's first recorded membership, the spans starting then."""
    by_login: dict[str, list[tuple]] = {}
    for row in memberships:
        by_login.setdefault(row[3].lower(), []).append(row)
    out = set()
    for pr in prs.values():
        author = login(pr.author)
        if author is None or is_bot(pr.author):
            continue
        spans = by_login.get(author.lower(), [])
        if not spans:
            continue
        first = min(span[7] for span in spans)
        opened = pr.created_at
        for span in spans:
            team, member, source, start, end = span[0], span[3], span[6], span[7], span[8]
            if opened < first:
                if start == first:
                    out.add((pr.id, team, member, source, "earliest_recorded", start))
            elif start <= opened and (end is None or opened < end):
                out.add((pr.id, team, member, source, "at_opened_at", start))
    return out


def assert_teams_match(pipeline: Any, syncs: list[TeamSync], repos: list[Any]) -> None:
    """dim_team_memberships and bridge_pull_request_teams hold exactly the rows the
    world's team history gives at the syncs the test ran."""
    expected = team_membership_rows(pipeline.world, syncs)
    got = pipeline.query(TEAMS_SQL)
    assert len(got) == len(set(got)), "duplicate membership rows"
    assert set(got) == expected, (set(got) - expected, expected - set(got))
    bridge = pull_request_team_rows(pull_requests(repos), expected)
    got_bridge = pipeline.query(BRIDGE_TEAMS_SQL)
    assert len(got_bridge) == len(set(got_bridge)), "duplicate PR x team rows"
    assert set(got_bridge) == bridge, (set(got_bridge) - bridge, bridge - set(got_bridge))
    assert_review_requests_match(pipeline, pull_requests(repos), expected)
    assert_weekly_marts_match(pipeline, pull_requests(repos), expected)


# --- review requests (fct_review_requests) ----------------------------------------------
# Spells from the issue's definition, walked over the world's timeline in plain Python.

REVIEW_REQUEST_COLUMNS = [
    "review_request_id", "pull_request_id", "repo", "pr_number", "reviewer_login",
    "is_bot_reviewer", "team_slug", "team", "requested_at", "requested_by_login", "ended_at", "responded_at",
    "responder_login", "response_kind", "response_hours", "outcome",
]
REVIEW_REQUESTS_SQL = (f"select {', '.join(REVIEW_REQUEST_COLUMNS)} "
                       "from analytics.fct_review_requests")
FAR_FUTURE = datetime(2100, 1, 1, tzinfo=timezone.utc)


def requested_key(target: Any) -> tuple[str | None, str | None]:
    """Who a request names, as GitHub shows it: a team by slug, anyone else by login; a
    deleted account by nothing."""
    if target is None or getattr(target, "deleted", False):
        return None, None
    if hasattr(target, "slug"):
        return "Team", target.slug.lower()
    return target.kind.value, target.login.lower()


def in_team_at(memberships: set[tuple], team: str, member: str, at: Any) -> bool:
    """``member`` in ``team`` at ``at`` by dim_team_memberships' spans; before the member's
    first recorded membership, by the spans of that first record."""
    spans = [row for row in memberships if row[3].lower() == member.lower()]
    if not spans:
        return False
    first = min(row[7] for row in spans)
    for row in spans:
        if row[0].lower() != team.lower():
            continue
        if at < first and row[7] == first:
            return True
        if at >= first and row[7] <= at and (row[8] is None or at < row[8]):
            return True
    return False


def pr_responses(pr: Any) -> list[tuple[Any, int, str, str]]:
    """``(at, rank, responder login, kind)`` of every review (not PENDING), conversation
    comment and review-thread comment of a submitted review, with an author known."""
    found = []
    for review in pr.reviews:
        if review.state == "PENDING" or review.submitted_at is None:
            continue
        who = login(review.author)
        if who is None:
            continue
        found.append((review.submitted_at, 0, who, review.state))
        found += [(c.created_at, 1, who, "comment") for c in review.comments]
    found += [(c.created_at, 1, login(c.author), "comment") for c in pr.comments
              if login(c.author) is not None]
    return sorted(found, key=lambda r: (r[0], r[1], r[2]))


def review_request_rows(prs: dict[tuple[str, int], Any], memberships: set[tuple]
                        ) -> set[tuple]:
    """Every fct_review_requests row, in REVIEW_REQUEST_COLUMNS order."""
    out = set()
    for (repo, number), pr in prs.items():
        org = repo.split("/")[0]
        author = login(pr.author)
        _, _, drafts = draft_spells(pr, FAR_FUTURE)
        timeline = sorted(pr.timeline, key=lambda e: (e.created_at, e.local_id))
        closes = [e.created_at for e in timeline if e.kind in ("ClosedEvent", "MergedEvent")]
        if pr.state != "OPEN" and (pr.merged_at or pr.closed_at):
            closes.append(pr.merged_at or pr.closed_at)
        answers = pr_responses(pr)
        spells_by_key: dict[tuple, list[Any]] = {}  # reviewer -> ends of its spells so far
        for event in timeline:
            if event.kind != "ReviewRequestedEvent":
                continue
            at, key = event.created_at, requested_key(event.requested_reviewer)
            is_team = key[0] == "Team"
            team = f"{org}/{event.requested_reviewer.slug}" if is_team else None

            def answers_it(who: str, moment: Any) -> bool:
                if is_team:
                    return (author is None or who.lower() != author.lower()) and \
                        in_team_at(memberships, team, who, moment)
                return key[1] is not None and who.lower() == key[1]

            response = None
            for moment, _, who, kind in answers:
                if moment >= at and answers_it(who, moment):
                    response = (moment, who, kind)
                    break
            removed = min((e.created_at for e in timeline
                           if e.kind == "ReviewRequestRemovedEvent" and e.created_at >= at
                           and requested_key(e.requested_reviewer) == key), default=None)
            closed = min((moment for moment in closes if moment >= at), default=None)
            ends = [m for m in (response and response[0], removed, closed) if m is not None]
            ended = min(ends, default=None)
            # inside a spell of the same reviewer still running: starts nothing
            earlier = spells_by_key.setdefault(key, [])
            covered = any(end is None or end > at for end in earlier)
            earlier.append(ended)
            if covered:
                continue
            answered = response is not None and response[0] == ended
            outcome = ("waiting" if ended is None else "responded" if answered
                       else "removed" if removed == ended else "closed_unanswered")
            responded = response[0] if answered else None
            out.add((
                event.id, pr.id, repo, number,
                None if is_team else (login(event.requested_reviewer) or GHOST),
                not is_team and is_bot(event.requested_reviewer),
                event.requested_reviewer.slug if is_team else None, team,
                at, login(event.actor) or GHOST, ended, responded,
                response[1] if answered else None, response[2] if answered else None,
                None if responded is None else
                hours(at, responded) - draft_seconds_within(drafts, at, responded) / 3600,
                outcome,
            ))
    return out


def assert_review_requests_match(pipeline: Any, prs: dict[tuple[str, int], Any],
                                 memberships: set[tuple]) -> None:
    expected = {(*row[:14], None if row[14] is None else round(row[14], 6), row[15])
                for row in review_request_rows(prs, memberships)}
    got = [(*row[:14], None if row[14] is None else round(row[14], 6), row[15])
           for row in pipeline.query(REVIEW_REQUESTS_SQL)]
    assert len(got) == len(set(got)), "duplicate review-request rows"
    assert set(got) == expected, (sorted(set(got) - expected)[:5], sorted(expected - set(got))[:5])


# --- team and reviewer weeks (mart_team_weekly, mart_reviewer_weekly) -------------------

def iso_week(at: Any) -> str:
    year, week, _ = at.astimezone(timezone.utc).isocalendar()
    return f"{year}-W{week:02d}"


def _rounded(row: dict[str, Any]) -> dict[str, Any]:
    return {k: round(v, 6) if isinstance(v, float) else v for k, v in row.items()}


def team_weekly_rows(prs: dict[tuple[str, int], Any], memberships: set[tuple]
                     ) -> dict[tuple[str, str], dict[str, Any]]:
    """mart_team_weekly by (team, ISO week), from the world and the membership spans."""
    teams = {row[0] for row in memberships}
    merged: dict[tuple[str, str], list[dict[str, Any]]] = {}
    by_id = {pr.id: pr for pr in prs.values()}
    for pr_id, team, *_ in pull_request_team_rows(prs, memberships):
        pr = by_id[pr_id]
        if pr.merged_at is not None:
            merged.setdefault((team, iso_week(pr.merged_at)), []).append(
                cycle_time_row(pr, FAR_FUTURE))
    requests: dict[tuple[str, str], list[tuple]] = {}
    for row in review_request_rows(prs, memberships):
        reviewer, team, requested_at = row[4], row[7], row[8]
        asked = [team] if team else [t for t in teams if reviewer is not None
                                     and in_team_at(memberships, t, reviewer, requested_at)]
        for name in asked:
            requests.setdefault((name, iso_week(requested_at)), []).append(row)
    given: dict[tuple[str, str], int] = {}
    for review in review_rows(prs).values():
        if not review["is_review_given"] or review["is_bot_reviewer"]:
            continue
        for team in teams:
            if in_team_at(memberships, team, review["reviewer_login"], review["submitted_at"]):
                key = (team, iso_week(review["submitted_at"]))
                given[key] = given.get(key, 0) + 1
    out = {}
    for key in set(merged) | set(requests) | set(given):
        group, asked = merged.get(key, []), requests.get(key, [])
        answered = [r for r in asked if r[-1] == "responded"]
        figures: dict[str, Any] = {"prs_merged": len(group)}
        for phase in ("cycle", "pickup", "review"):
            values = [r[f"{phase}_hours"] for r in group if r[f"{phase}_hours"] is not None]
            figures[f"median_{phase}_hours"] = quantile_cont(values, 0.5)
            figures[f"p90_{phase}_hours"] = quantile_cont(values, 0.9)
        figures["share_merged_without_review"] = (
            sum(r["merged_without_review"] for r in group) / len(group) if group else None)
        figures["median_commits_after_first_response"] = quantile_cont(
            [r["commits_after_first_response"] for r in group
             if r["first_response_at"] is not None], 0.5)
        figures.update({
            "review_requests_received": len(asked),
            "review_requests_answered": len(answered),
            "share_requests_answered": len(answered) / len(asked) if asked else None,
            "median_response_hours": quantile_cont([r[-2] for r in answered], 0.5),
            "reviews_given": given.get(key, 0),
        })
        out[key] = _rounded(figures)
    return out


def reviewer_weekly_rows(prs: dict[tuple[str, int], Any], memberships: set[tuple]
                         ) -> dict[tuple[str, str], dict[str, Any]]:
    """mart_reviewer_weekly by (reviewer, ISO week): people only (no bots, no ghost)."""
    asked: dict[tuple[str, str], list[tuple]] = {}
    for row in review_request_rows(prs, memberships):
        reviewer, bot = row[4], row[5]
        if reviewer is None or reviewer == GHOST or bot:
            continue
        asked.setdefault((reviewer, iso_week(row[8])), []).append(row)
    written: dict[tuple[str, str], list[str]] = {}
    comments: dict[tuple[str, str], int] = {}
    for (_, _), pr in prs.items():
        for review in pr.reviews:
            reviewer = login(review.author)
            if (review.state == "PENDING" or reviewer is None or is_bot(review.author)
                    or reviewer == login(pr.author)):
                continue
            written.setdefault((reviewer, iso_week(review.submitted_at)), []).append(review.state)
            for comment in review.comments:
                key = (reviewer, iso_week(comment.created_at))
                comments[key] = comments.get(key, 0) + 1
    out = {}
    for key in set(asked) | set(written) | set(comments):
        group = asked.get(key, [])
        answered = [r[-2] for r in group if r[-1] == "responded"]
        out[key] = _rounded({
            "review_requests": len(group),
            "review_requests_answered": len(answered),
            "median_response_hours": quantile_cont(answered, 0.5),
            "p90_response_hours": quantile_cont(answered, 0.9),
            "reviews_written": len(written.get(key, [])),
            "review_comments_written": comments.get(key, 0),
            "approvals": written.get(key, []).count("APPROVED"),
        })
    return out


def _weekly_from_sql(pipeline: Any, table: str, key: str, columns: list[str]
                     ) -> dict[tuple[str, str], dict[str, Any]]:
    rows = pipeline.query(f"select {key}, iso_week, {', '.join(columns)} from analytics.{table}")
    got = {(r[0], r[1]): _rounded(dict(zip(columns, r[2:]))) for r in rows}
    assert len(got) == len(rows), f"duplicate {key} x week rows in {table}"
    return got


def assert_weekly_marts_match(pipeline: Any, prs: dict[tuple[str, int], Any],
                              memberships: set[tuple]) -> None:
    """mart_team_weekly and mart_reviewer_weekly: every row and figure as recomputed."""
    for table, key, expected in (
            ("mart_team_weekly", "team", team_weekly_rows(prs, memberships)),
            ("mart_reviewer_weekly", "reviewer_login", reviewer_weekly_rows(prs, memberships))):
        columns = list(next(iter(expected.values())))
        got = _weekly_from_sql(pipeline, table, key, columns)
        assert set(got) == set(expected), (table, set(got) ^ set(expected))
        wrong = [(k, c, got[k][c], v) for k, row in expected.items() for c, v in row.items()
                 if got[k][c] != v]
        assert not wrong, (table, wrong[:10])
