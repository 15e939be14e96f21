-- Grain: one row per pull request whose head commit's checks were fetched. The checks
-- figures of fct_pull_request_cycle_time:
--   checks_state     = GitHub's rollup state (null: the head commit has no checks)
--   checks_failed    = counted checks concluded FAILURE, TIMED_OUT, STARTUP_FAILURE or
--                      ACTION_REQUIRED (a status context's state FAILURE counts too)
--   checks_passed_at = the completion of the last required check when every required one
--                      passed; of the last check when none is required; null otherwise
-- A check counts once: a re-run replaces the earlier run of the same kind, workflow and
-- name (the latest started counts, as GitHub's rollup does), so a flaky check that failed
-- and then passed is a pass. Passing is SUCCESS, NEUTRAL or SKIPPED for a check run
-- (GitHub lets those through branch protection), SUCCESS for a status.
--
-- Incremental per PR (dbt_project.yml, macros/incremental.sql).
{%- set loaded_since = loaded_since_last_build() %}

with

rollups as (

    select * from {{ ref('stg_github__pull_request_check_rollups') }}
    where {{ loaded_since }}

),

checks as (

    select * from {{ ref('stg_github__pull_request_checks') }}
    where {{ loaded_since }}

),

counted as (

    select
        *,
        case when kind = 'check_run' then conclusion in ('SUCCESS', 'NEUTRAL', 'SKIPPED')
             else conclusion = 'SUCCESS'
        end                                                        as is_passing,
        coalesce(completed_at, started_at)                         as finished_at,
        bool_or(is_required) over (partition by pull_request_id)   as any_required
    from checks
    qualify row_number() over (
        partition by pull_request_id, kind, coalesce(workflow_name, ''), check_name
        order by started_at desc nulls last, position desc
    ) = 1

),

stats as (

    select
        pull_request_id,
        count(*)                                                   as counted_checks,
        count(*) filter (
            where conclusion in ('FAILURE', 'TIMED_OUT', 'STARTUP_FAILURE', 'ACTION_REQUIRED')
        )                                                          as checks_failed,
        -- the checks that gate the PR: the required ones, or all when none is required
        bool_and(is_passing) filter (where is_required or not any_required)
                                                                   as gate_passed,
        max(finished_at) filter (where is_required or not any_required)
                                                                   as gate_finished_at
    from counted
    group by 1

),

final as (

    select
        rollups.pull_request_id,
        rollups.checks_state,
        coalesce(stats.counted_checks, 0)                          as counted_checks,
        coalesce(stats.checks_failed, 0)                           as checks_failed,
        case when stats.gate_passed then stats.gate_finished_at end
                                                                   as checks_passed_at,
        rollups.loaded_at
    from rollups
    left join stats
        on rollups.pull_request_id = stats.pull_request_id

)

select * from final
