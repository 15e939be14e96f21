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
