-- Grain: one row per spell in draft of a pull request: from its creation (if created as a
-- draft) or a ConvertToDraftEvent that found it ready, until the next ReadyForReviewEvent,
-- else until its draft clock stops (closed/merged). A second convert while already in
-- draft starts nothing; spells are clipped at the clock's stop. While the PR is open the
-- clock has no stop here: a spell still running ends null, and the cycle-time fact clips
-- open PRs' spells at its as_of (so nothing here depends on as_of).
--
-- Incremental per PR (dbt/macros/incremental.sql): only PRs loaded since the last build;
-- the strategy also drops the spells of PRs loaded again (they may have none now).
{%- set loaded_since = loaded_since_last_build() %}

with

readiness as (

    select * from {{ ref('int_pull_request_readiness') }}
    where {{ loaded_since }}

),

pull_requests as (

    select pull_request_id, created_at from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

events as (

    select * from {{ ref('stg_github__pull_request_timeline_events') }}
    where {{ loaded_since }}
      and event_type in ('ReadyForReviewEvent', 'ConvertToDraftEvent')

),

-- the PR's creation is step 0 (draft or ready), then its events in timeline order
steps as (

    select
        readiness.pull_request_id,
        pull_requests.created_at                 as stepped_at,
        0                                        as position,
        readiness.created_as_draft               as to_draft,
        readiness.draft_clock_stops_at,
        readiness.loaded_at
    from readiness
    inner join pull_requests
        on readiness.pull_request_id = pull_requests.pull_request_id

    union all

    select
        events.pull_request_id,
        events.created_at,
        events.timeline_position,
        events.event_type = 'ConvertToDraftEvent',
        readiness.draft_clock_stops_at,
        readiness.loaded_at
    from events
    inner join readiness
        on events.pull_request_id = readiness.pull_request_id

),

ordered as (

    select
        *,
        lag(to_draft) over (
            partition by pull_request_id order by stepped_at, position
        )                                        as was_draft,
        min(case when not to_draft then stepped_at end) over (
            partition by pull_request_id order by stepped_at, position
            rows between 1 following and unbounded following
        )                                        as next_ready_at
    from steps

),

final as (

    select
        pull_request_id,
        stepped_at                                                   as draft_started_at,
        -- DuckDB's least skips nulls: an open PR's running spell stays null
        least(next_ready_at, draft_clock_stops_at)                   as draft_ended_at,
        loaded_at
    from ordered
    where to_draft
      and was_draft is distinct from true
      and (draft_clock_stops_at is null or stepped_at < draft_clock_stops_at)

)

select * from final
