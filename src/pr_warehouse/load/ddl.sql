-- The raw layer: what the load writes and dbt reads (as sources). One row per pull request,
-- the newest `updated_at` winning (its fields; its events); one row per sync run and repository.
create schema if not exists raw;

create table if not exists raw.pull_requests (
    node_id     varchar primary key,   -- GitHub's global node id: stable across renames
    repo        varchar not null,      -- owner/name as requested
    pr_number   integer not null,
    updated_at  timestamptz not null,
    pr          json not null,         -- the PullRequestFields node, nested lists completed
    page_key    varchar not null,      -- object-storage key of the page it came from
    run_id      varchar not null,
    loaded_at   timestamptz not null
);

-- One row per pull request whose events were fetched (new or changed in a sync), the
-- newest `updated_at` winning, as raw.pull_requests.
create table if not exists raw.pull_request_events (
    node_id     varchar primary key,   -- the pull request's node id
    repo        varchar not null,
    pr_number   integer not null,
    updated_at  timestamptz not null,  -- the PR's updatedAt when its events were fetched
    events      json not null,         -- the PullRequestEventFields node, timeline completed
    page_key    varchar not null,
    run_id      varchar not null,
    loaded_at   timestamptz not null
);

create table if not exists raw.sync_runs (
    run_id          varchar not null,
    repo            varchar not null,
    status          varchar not null,  -- success | failed | skipped
    started_at      timestamptz,
    finished_at     timestamptz,
    pages           integer not null,
    pull_requests   integer not null,
    points_spent    integer not null,
    requests        integer not null,
    retries         json not null,     -- {"server_error": 2, "secondary_rate_limit": 1, ...}
    page_size_final integer,
    error           varchar,
    loaded_at       timestamptz not null,
    primary key (run_id, repo)
);

create table if not exists raw.sync_plans (
    run_id           varchar primary key,
    repos_total      integer not null,
    repos_extracted  integer not null,
    repos_skipped    integer not null,   -- unchanged since their watermark: no extract ran
    probe_points     integer not null,
    probe_requests   integer not null,
    loaded_at        timestamptz not null
);

-- Teams. Each sync records what GitHub said about each organization's teams then (the key
-- is its sync time, GitHub's clock when it answered), so memberships have a history: dbt
-- derives dim_team_memberships' spans from these snapshots, and a later sync never
-- rewrites an earlier one.
create table if not exists raw.org_team_syncs (
    org                 varchar not null,      -- the owner's login
    synced_at           timestamptz not null,  -- GitHub's clock (Date header) when read
    status              varchar not null,      -- ok | forbidden | user | not_found
    team_count          integer not null,
    missing_permission  varchar,               -- forbidden: what the token lacks
    error               varchar,
    points_spent        integer not null,      -- GraphQL points this read cost (0: cached)
    requests            integer not null,
    run_id              varchar not null,
    loaded_at           timestamptz not null,
    primary key (org, synced_at)
);

-- One row per team of an `ok` sync: the Team node as GitHub returned it (slug, name,
-- parentTeam, immediate members with their role), member lists completed from follow-ups.
create table if not exists raw.org_teams (
    org         varchar not null,
    synced_at   timestamptz not null,
    team_id     varchar not null,      -- the team's node id
    slug        varchar not null,
    team        json not null,
    page_key    varchar not null,      -- object-storage key of the teams page
    run_id      varchar not null,
    loaded_at   timestamptz not null,
    primary key (org, synced_at, team_id)
);

-- One row per sync of the teams file: its `teams:` section as read (team name -> logins).
create table if not exists raw.team_file_syncs (
    synced_at   timestamptz primary key,
    path        varchar,               -- the file read (null: none)
    teams       json not null,         -- {"team name": ["login", ...]}
    run_id      varchar not null,
    loaded_at   timestamptz not null
);

-- One row per submitted review whose thread comments were fetched (extract/
-- review_comments.py: the window's new reviews by others than the PR's author), its
-- comments complete. A review's comments never change once published, so a row is
-- written once; re-loading the same pages changes nothing. `loaded_at` is its PR's: a
-- load that writes a review stamps the PR's rows too, and a PR rewritten keeps its
-- reviews on its own `loaded_at` (dbt's per-PR incremental models rely on that).
create table if not exists raw.pull_request_review_comments (
    review_id        varchar primary key,  -- the PullRequestReview's node id
    pull_request_id  varchar not null,
    repo             varchar not null,
    pr_number        integer not null,
    review           json not null,        -- {id, pullRequest {id}, comments {nodes ...}}
    page_key         varchar not null,     -- the review-comments page it came from
    run_id           varchar not null,
    loaded_at        timestamptz not null
);

-- CI checks: one row per pull request whose head commit's checks were fetched (new or
-- changed in a sync). `rollup` is GitHub's statusCheckRollup with every page of its
-- contexts joined in order ({"state": ..., "contexts": [CheckRun | StatusContext nodes]}),
-- or null when the head commit has no checks. A newer fetch that differs replaces it.
create table if not exists raw.pull_request_checks (
    node_id     varchar primary key,   -- the pull request's node id
    fetched_at  timestamptz not null,  -- when its first checks page was fetched
    rollup      json,                  -- null: no checks on the head commit
    page_key    varchar not null,      -- the page holding its first contexts
    run_id      varchar not null,
    loaded_at   timestamptz not null
);

-- Deployments (load/deployments.py). One row per deployment as last read: its statuses
-- (every one, oldest first) grow after it is created, so a newer read replaces an older
-- one (`read_at`: GitHub's clock when answered); the same pages loaded again change nothing.
create table if not exists raw.deployments (
    node_id        varchar primary key,
    repo           varchar not null,
    environment    varchar,
    commit_oid     varchar not null,
    created_at     timestamptz not null,
    creator_login  varchar,
    statuses       json not null,         -- [{"state": ..., "createdAt": ...}], oldest first
    read_at        timestamptz not null,
    page_key       varchar not null,
    run_id         varchar not null,
    loaded_at      timestamptz not null
);

-- One row per published release (a tag); drafts (no publishedAt) are not kept.
create table if not exists raw.releases (
    node_id        varchar primary key,
    repo           varchar not null,
    tag_name       varchar not null,
    published_at   timestamptz not null,
    commit_oid     varchar,
    page_key       varchar not null,
    run_id         varchar not null,
    loaded_at      timestamptz not null
);

-- The default branch's commits, accumulated across runs (each run reads those since its
-- watermark): position in this history is what "contains a merge commit" means.
create table if not exists raw.default_branch_commits (
    repo           varchar not null,
    oid            varchar not null,
    committed_at   timestamptz not null,
    page_key       varchar not null,
    run_id         varchar not null,
    loaded_at      timestamptz not null,
    primary key (repo, oid)
);
