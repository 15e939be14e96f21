-- Grain: one row per span of time a pull request was in a milestone, by the milestone's
-- title (GitHub's milestone events name the title only). A span runs from each
-- MilestonedEvent to the next DemilestonedEvent of the same title on that PR, or stays
-- open (removed_at null); a move between milestones is both events at one instant. A
-- milestone set before GitHub recorded these events has no MilestonedEvent: the span
-- starts at the PR's opening (added_by null), and ends at the first DemilestonedEvent
-- if there is one, else stays open while the PR is in it. The rules are the
-- history_spans macro's (macros/spans.sql).
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build; nothing here depends on `as_of`.
{%- set loaded_since = loaded_since_last_build() %}

with

pull_requests as (

    select pull_request_id, repo, pr_number, created_at as opened_at, milestone_title,
           loaded_at
    from {{ ref('stg_github__pull_requests') }}
    where {{ loaded_since }}

),

milestone_events as (

    select
        pull_request_id,
        event_id,
        event_type,
        created_at,
        timeline_position,
        milestone_title                                            as item,
        actor_login
    from {{ ref('stg_github__pull_request_timeline_events') }}
    where {{ loaded_since }}
      and event_type in ('MilestonedEvent', 'DemilestonedEvent')
      and milestone_title is not null

),

-- the milestone the PR is in now (at most one)
milestone_carried as (

    select pull_request_id, milestone_title as item
    from pull_requests
    where milestone_title is not null

),

spans as (

    {{ history_spans('pull_requests', 'milestone_events', 'milestone_carried',
                     'MilestonedEvent', 'DemilestonedEvent') }}

),

final as (

    select
        span_id,
        pull_request_id,
        repo,
        pr_number,
        item                                                       as milestone_title,
        added_at,
        removed_at,
        added_by,
        loaded_at
    from spans

)

select * from final
