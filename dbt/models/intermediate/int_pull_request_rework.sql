-- Grain: one row per commit or head-branch force push of a pull request (GitHub node id
-- of the PullRequestCommit or HeadRefForcePushedEvent timeline item). `occurred_at` is a
-- commit's committedDate (a rebase or amend gives it a new one) or the force push's
-- createdAt. The rework figures of fct_pull_request_cycle_time count these after the
-- first response; kept as a table so the fact can rebuild every open PR on each run
-- without unnesting their timelines again.
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql): only PRs loaded since
-- the last build.
{%- set loaded_since = loaded_since_last_build() %}

with

events as (

    select * from {{ ref('stg_github__pull_request_timeline_events') }}
    where {{ loaded_since }}
      and event_type in ('PullRequestCommit', 'HeadRefForcePushedEvent')

),

final as (

    select
        event_id,
        pull_request_id,
        case event_type when 'PullRequestCommit' then 'commit' else 'force_push' end
                                                                   as rework_type,
        created_at                                                 as occurred_at,
        commit_oid,
        actor_login,
        loaded_at
    from events

)

select * from final
